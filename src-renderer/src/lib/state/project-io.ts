/**
 * Open / Save for both shells. Electron has native dialogs behind `api.projects`; browser mode has none, so
 * Open reads a file picked in an `<input type=file>` and Save downloads the JSON when the service returns no
 * path. Lives outside the toolbar so the application menu (Electron) can run the same commands.
 */
import type { Project } from '$shared/contract';
import { parseProjectFile, projectFileName, serializeProject } from '../editor/project-file';
import type { AppState } from './app-state.svelte';

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Load a project file the user picked (browser mode). Errors name the file and the field. */
export async function openProjectFile(app: AppState, file: File): Promise<void> {
  try {
    app.project.loadProject(parseProjectFile(await file.text(), file.name));
    app.say('info', `Opened ${file.name}`);
  } catch (e) {
    app.say('error', messageOf(e));
  }
}

/** Let the user pick a project file without a dialog service: a detached file input (browser mode). */
function pickFile(app: AppState): void {
  const input = document.createElement('input');
  input.type = 'file';
  input.accept = '.json,application/json';
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (file) void openProjectFile(app, file);
  });
  input.click();
}

/** Open: the native dialog in Electron, a file picker in browser mode. */
export async function openProject(app: AppState, fileInput?: HTMLInputElement): Promise<void> {
  try {
    if (app.api().kind === 'browser') {
      if (fileInput) fileInput.click();
      else pickFile(app);
      return;
    }
    const opened = await app.api().projects.openProject();
    if (opened) {
      app.project.loadProject(opened);
      app.say('info', `Opened ${opened.spec.config.name}`);
    }
  } catch (e) {
    app.say('error', `Could not open the project: ${messageOf(e)}`);
  }
}

/** Save: the native dialog in Electron (null = cancelled); in browser mode a download when no path comes back. */
export async function saveProject(app: AppState): Promise<void> {
  const data = app.project.toProject();
  try {
    const path = await app.api().projects.saveProject(data);
    if (path) {
      app.project.markSaved();
      app.say('info', `Saved to ${path}`);
    } else if (app.api().kind === 'browser') {
      download(app, data);
      app.project.markSaved();
    }
  } catch (e) {
    app.say('error', `Could not save the project: ${messageOf(e)}`);
  }
}

function download(app: AppState, data: Project): void {
  const url = URL.createObjectURL(new Blob([serializeProject(data)], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = projectFileName(data.spec.config.name);
  a.click();
  // The click has started the download synchronously; the URL is no longer needed after this tick.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
  app.say('info', `Downloaded ${a.download}`);
}
