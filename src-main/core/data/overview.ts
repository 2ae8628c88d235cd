/**
 * A dataset described for the dataset view: images per class in each set and a few training images of each
 * class. No tfjs (the app's main process serves it): labels are counted and pixels sliced from the raw bytes.
 */
import type { DatasetOverview } from '../../shared/contract';
import { getImages } from './samples';
import type { Dataset, ImageSet } from './types';

/** Images per class in `set`, for `classes` classes (labels are 0 … classes−1 once loaded). */
export function classCounts(set: ImageSet, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < set.count; i++) {
    const label = set.labels[i]!;
    if (label < classes) counts[label]! += 1;
  }
  return counts;
}

/** The first `perClass` training images of each class, in the order they appear in the set. */
export function firstOfEachClass(set: ImageSet, classes: number, perClass: number): number[][] {
  const picked: number[][] = Array.from({ length: classes }, () => []);
  let open = perClass > 0 ? classes : 0;
  for (let i = 0; i < set.count && open > 0; i++) {
    const list = picked[set.labels[i]!];
    if (!list || list.length >= perClass) continue;
    list.push(i);
    if (list.length === perClass) open--;
  }
  return picked;
}

/** The overview of a loaded dataset. */
export function describeDataset(ds: Dataset, perClass: number): DatasetOverview {
  const classes = ds.info.classNames.length;
  return {
    datasetId: ds.info.id,
    classNames: ds.info.classNames,
    trainCounts: classCounts(ds.train, classes),
    testCounts: classCounts(ds.test, classes),
    thumbnails: firstOfEachClass(ds.train, classes, perClass).map((indices) => getImages(ds.train, indices)),
  };
}
