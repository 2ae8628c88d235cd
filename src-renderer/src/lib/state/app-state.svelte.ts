/**
 * The renderer's root state: one instance, created in app.svelte and passed down as a prop.
 * Each area keeps its own state class in this folder (project.svelte.ts for the editor + form,
 * training.svelte.ts for the dashboard and results, runs.svelte.ts for the run list); this class only
 * holds them and what is truly global (the current view).
 */
export type View = 'model' | 'train' | 'results' | 'runs';

export class AppState {
  title = 'CNN Workbench';
  view = $state<View>('model');
}
