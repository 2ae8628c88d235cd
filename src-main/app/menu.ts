/**
 * The application menu. Items that act on the renderer's state (projects, import, export, undo) send a typed
 * `MenuCommand` through the services' event hub, so the renderer handles them exactly as its own buttons.
 */
import { Menu, app, dialog, shell, type BrowserWindow, type MenuItemConstructorOptions } from 'electron';
import type { MenuCommand } from '../shared/contract';

export interface MenuContext {
  send(command: MenuCommand): void;
  window(): BrowserWindow | null;
  runsDir: string;
  dataDir: string;
  isDev: boolean;
}

/** Builds and installs the menu. */
export function installMenu(ctx: MenuContext): void {
  const item = (label: string, command: MenuCommand, accelerator?: string): MenuItemConstructorOptions => ({
    label,
    accelerator,
    click: () => ctx.send(command),
  });
  const isMac = process.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: '&File',
      submenu: [
        item('&New Project', 'project.new', 'CmdOrCtrl+N'),
        item('&Open Project…', 'project.open', 'CmdOrCtrl+O'),
        item('&Save Project…', 'project.save', 'CmdOrCtrl+S'),
        { type: 'separator' },
        item('&Import Dataset…', 'dataset.import', 'CmdOrCtrl+I'),
        item('&Export Model…', 'model.export', 'CmdOrCtrl+E'),
        { type: 'separator' },
        { label: 'Open Runs Folder', click: () => void shell.openPath(ctx.runsDir) },
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    {
      label: '&Edit',
      submenu: [
        // The model editor keeps its own undo history; the renderer falls back to text undo in a text field.
        item('&Undo', 'edit.undo', 'CmdOrCtrl+Z'),
        item('&Redo', 'edit.redo', isMac ? 'Shift+Cmd+Z' : 'Ctrl+Y'),
        { type: 'separator' },
        { role: 'cut' },
        { role: 'copy' },
        { role: 'paste' },
        { role: 'selectAll' },
      ],
    },
    {
      label: '&View',
      submenu: [
        { role: 'reload' },
        ...(ctx.isDev ? [{ role: 'toggleDevTools' as const }] : []),
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    {
      label: '&Help',
      submenu: [
        { label: 'Open Data Folder', click: () => void shell.openPath(ctx.dataDir) },
        {
          label: 'About CNN Workbench',
          click: () => {
            const win = ctx.window();
            const detail = `Version ${app.getVersion()}\nElectron ${process.versions.electron}, Node ${process.versions.node}\nRuns: ${ctx.runsDir}`;
            const opts = { type: 'info' as const, title: 'About CNN Workbench', message: 'CNN Workbench', detail };
            void (win ? dialog.showMessageBox(win, opts) : dialog.showMessageBox(opts));
          },
        },
      ],
    },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
