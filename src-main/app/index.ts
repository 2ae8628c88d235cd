/**
 * Electron main: one window, the services (training runs in a worker thread they own), the IPC bridge that
 * validates every call, the application menu and the native file dialogs. The renderer only shows and asks.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BrowserWindow, app, dialog, ipcMain, session, type IpcMainInvokeEvent } from 'electron';
import { METHOD_CHANNELS, ipcEventChannel, ipcInvokeChannel } from '../shared/channels';
import { createServices, toWireError, type ShellDialogs, type Services } from '../services/index';
import { defaultRunsDir, userDataDir } from '../core/paths';
import { installMenu } from './menu';
import { CONTENT_SECURITY_POLICY, devContentSecurityPolicy, enforceCsp, lockDownContents } from './security';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Set by `electron-vite dev`: the renderer's dev server. */
const devUrl = process.env.ELECTRON_RENDERER_URL;
const rendererFile = path.join(here, '..', 'renderer', 'index.html');

// Runs, imported datasets and settings live with the app's own data unless the user chose a home; a chosen
// home (tests, a second workspace) also gets its own Electron profile, hence its own single-instance lock.
if (process.env.CNN_WORKBENCH_HOME) app.setPath('userData', path.join(path.resolve(process.env.CNN_WORKBENCH_HOME), 'electron'));
else process.env.CNN_WORKBENCH_HOME = app.getPath('userData');

let mainWindow: BrowserWindow | null = null;
let services: Services | null = null;

/** True for the app's own pages: the built renderer file, or the dev server in development. */
function isAppUrl(url: string): boolean {
  if (devUrl) return url.startsWith(new URL(devUrl).origin + '/');
  return url.split(/[?#]/)[0] === pathToFileURL(rendererFile).toString();
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1360,
    height: 900,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'CNN Workbench',
    backgroundColor: '#ffffff',
    webPreferences: {
      preload: path.join(here, '..', 'preload', 'index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
    },
  });
  // Shown only once painted, so the user never sees a blank white frame.
  win.once('ready-to-show', () => win.show());
  lockDownContents(win.webContents, isAppUrl);
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  if (devUrl) void win.loadURL(devUrl);
  else void win.loadFile(rendererFile);
  return win;
}

/** Native dialogs; every path they return is granted to the renderer for later calls. */
function dialogs(): ShellDialogs {
  const parent = (): BrowserWindow | undefined => mainWindow ?? undefined;
  const open = async (options: Electron.OpenDialogOptions): Promise<string | null> => {
    const win = parent();
    const r = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
    return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0]!;
  };
  const save = async (options: Electron.SaveDialogOptions): Promise<string | null> => {
    const win = parent();
    const r = win ? await dialog.showSaveDialog(win, options) : await dialog.showSaveDialog(options);
    return r.canceled || !r.filePath ? null : r.filePath;
  };
  return {
    async chooseDataset() {
      // Linux and Windows cannot offer files and folders in one dialog: ask which first.
      const win = parent();
      const question = {
        type: 'question' as const,
        title: 'Import dataset',
        message: 'What do you want to import?',
        detail:
          'A folder of your own images holds one subfolder of PNG/JPEG files per class (optionally inside train/ and test/). An IDX folder holds train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz), t10k-images-idx3-ubyte(.gz) and t10k-labels-idx1-ubyte(.gz). A CSV has one image per row: the label, then the pixels.',
        buttons: ['Folder (images or IDX)…', 'CSV file…', 'Cancel'],
        cancelId: 2,
        defaultId: 0,
      };
      const { response } = win ? await dialog.showMessageBox(win, question) : await dialog.showMessageBox(question);
      if (response === 0) return open({ title: 'Import a folder of class subfolders or of IDX files', properties: ['openDirectory'] });
      if (response === 1) return open({ title: 'Import a CSV dataset', properties: ['openFile'], filters: [{ name: 'CSV', extensions: ['csv'] }] });
      return null;
    },
    chooseExportFolder: (defaultName) =>
      open({ title: `Export the model (${defaultName}) into a folder`, properties: ['openDirectory', 'createDirectory'], buttonLabel: 'Export here' }),
    chooseProjectToOpen: () =>
      open({ title: 'Open project', properties: ['openFile'], filters: [{ name: 'CNN Workbench project', extensions: ['json'] }] }),
    chooseProjectToSave: (defaultName) =>
      save({ title: 'Save project', defaultPath: defaultName, filters: [{ name: 'CNN Workbench project', extensions: ['json'] }] }),
  };
}

/** One handler per contract method; only the app's own pages may call, and every payload is validated. */
function registerIpc(svc: Services): void {
  for (const channel of METHOD_CHANNELS) {
    ipcMain.handle(ipcInvokeChannel(channel), async (event: IpcMainInvokeEvent, args: unknown) => {
      const sender = event.senderFrame?.url ?? '';
      if (!isAppUrl(sender)) {
        return { ok: false, error: { name: 'Forbidden', message: `${channel}: calls are accepted only from the workbench's own page (received one from ${JSON.stringify(sender)})` } };
      }
      try {
        return { ok: true, value: await svc.dispatch(channel, args) };
      } catch (err) {
        return { ok: false, error: toWireError(err) };
      }
    });
  }
  svc.events.onAny((channel, payload) => {
    for (const win of BrowserWindow.getAllWindows()) {
      if (!win.isDestroyed()) win.webContents.send(ipcEventChannel(channel), payload);
    }
  });
}

if (!app.requestSingleInstanceLock()) {
  // Another instance owns the runs folder and the training worker: hand over to it.
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });

  app.on('web-contents-created', (_event, contents) => lockDownContents(contents, isAppUrl));

  void app.whenReady().then(() => {
    enforceCsp(session.defaultSession, devUrl ? devContentSecurityPolicy(devUrl) : CONTENT_SECURITY_POLICY);
    services = createServices({
      kind: 'electron',
      dialogs: dialogs(),
      // The bundle's worker entry sits beside this file (electron-vite builds it as a second main entry).
      workerUrl: new URL('./worker.js', import.meta.url),
    });
    registerIpc(services);
    const svc = services;
    installMenu({
      send: (command) => svc.sendMenuCommand(command),
      window: () => mainWindow,
      runsDir: defaultRunsDir(),
      dataDir: userDataDir(),
      isDev: Boolean(devUrl),
    });
    mainWindow = createWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  let disposed = false;
  app.on('before-quit', (event) => {
    if (disposed || !services) return;
    // Let the worker go first; a run it was training is then listed as interrupted, its epochs kept.
    event.preventDefault();
    disposed = true;
    void services.dispose().finally(() => app.quit());
  });
}
