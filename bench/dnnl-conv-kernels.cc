// The lesson CNN's eleven convolution passes through oneDNN, isolated: float32 against bfloat16 in (DF32=1: float32
// out; WF32=1: float32 filter gradient), two threads, medians of 15 (bench/results.md, session 6). Not part of the
// build:
//   g++ -O2 -fopenmp -o /tmp/dnnl-conv-kernels bench/dnnl-conv-kernels.cc -ldnnl && OMP_NUM_THREADS=2 DF32=1 /tmp/dnnl-conv-kernels
#include <oneapi/dnnl/dnnl.hpp>
#include <chrono>
#include <cstdio>
#include <vector>
#include <algorithm>
#include <string>
#include <cstdlib>
using namespace dnnl;
using tag = memory::format_tag; using dt = memory::data_type;
engine eng(engine::kind::cpu, 0); stream s(eng);
double med(std::vector<double> v){ std::sort(v.begin(), v.end()); return v[v.size()/2]; }
template<class F> double timeit(F f){ for(int i=0;i<3;i++) f(); std::vector<double> t; for(int i=0;i<15;i++){ auto a=std::chrono::steady_clock::now(); f(); s.wait(); t.push_back(std::chrono::duration<double,std::milli>(std::chrono::steady_clock::now()-a).count()); } return med(t); }
int main(){
  struct G{int c,oc,h;} gs[]={{1,32,28},{32,32,28},{32,64,14},{64,64,14}};
  int N=128; double tot[2]={0,0};
  for(auto g: gs){
    memory::dims src={N,g.c,g.h,g.h}, dst={N,g.oc,g.h,g.h}, w={g.oc,g.c,3,3}, b={g.oc}, st={1,1}, pad={1,1};
    for(int bf=0; bf<2; bf++){
      dt a = bf? dt::bf16: dt::f32;
      memory::desc sd(src,a,tag::nhwc), dd(dst,a,tag::nhwc), ddf(dst,dt::f32,tag::nhwc), sdf(src,dt::f32,tag::nhwc), wd(w,a,tag::any), bd(b,dt::f32,tag::x);
      memory::desc wdw(w, getenv("WF32")? dt::f32 : (bf? dt::bf16 : dt::f32), tag::any), bdw(b, dt::f32, tag::x);
      convolution_forward::desc fd(prop_kind::forward_training, algorithm::convolution_direct, sd, wd, bd, getenv("DF32")?ddf:dd, st, pad, pad);
      convolution_forward::primitive_desc fpd(fd, eng);
      memory S(sd,eng), D(dd,eng), DF(ddf,eng), W(fpd.weights_desc(),eng), B(bd,eng);
      convolution_forward fwd(fpd);
      double tf=timeit([&]{ fwd.execute(s,{{DNNL_ARG_SRC,S},{DNNL_ARG_WEIGHTS,W},{DNNL_ARG_BIAS,B},{DNNL_ARG_DST,getenv("DF32")?DF:D}}); });
      double tbd=0;
      if(g.c>1){ convolution_backward_data::desc bdd(algorithm::convolution_direct, getenv("DF32")?sdf:sd, wd, dd, st, pad, pad);
        convolution_backward_data::primitive_desc bpd(bdd, eng, fpd); memory W2(bpd.weights_desc(),eng), DS(getenv("DF32")?sdf:sd,eng);
        convolution_backward_data bwd(bpd);
        tbd=timeit([&]{ bwd.execute(s,{{DNNL_ARG_DIFF_DST,D},{DNNL_ARG_WEIGHTS,W2},{DNNL_ARG_DIFF_SRC,DS}}); }); }
      bool withBias = g.c>1;
      auto wdesc = withBias ? convolution_backward_weights::desc(algorithm::convolution_direct, sd, wdw, bdw, dd, st, pad, pad)
                            : convolution_backward_weights::desc(algorithm::convolution_direct, sd, wdw, dd, st, pad, pad);
      convolution_backward_weights::primitive_desc wpd(wdesc, eng, fpd);
      memory DW(wpd.diff_weights_desc(),eng), DB(bdw,eng);
      convolution_backward_weights bww(wpd);
      double tbw=timeit([&]{ std::unordered_map<int,memory> m{{DNNL_ARG_SRC,S},{DNNL_ARG_DIFF_DST,D},{DNNL_ARG_DIFF_WEIGHTS,DW}}; if(withBias) m.emplace(DNNL_ARG_DIFF_BIAS,DB); bww.execute(s,m); });
      printf("%s %2d->%2d @%d fwd %.2f (%s) bwdD %.2f bwdW %.2f (%s)\n", bf?"bf16":"f32 ", g.c,g.oc,g.h, tf, fpd.impl_info_str(), tbd, tbw, wpd.impl_info_str());
      tot[bf]+=tf+tbd+tbw;
    }
  }
  printf("total f32 %.1f ms, bf16 %.1f ms\n", tot[0], tot[1]);
}
