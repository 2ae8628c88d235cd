/**
 * App-wide state through Svelte context rather than a prop threaded through every level: app.svelte sets
 * the one AppState, and any component below reads it (and its project, training and runs) where it needs it.
 */
import { createContext } from 'svelte';
import type { AppState } from './app-state.svelte';

const [getAppContext, setAppContext] = createContext<AppState>();

/** The AppState set by app.svelte; throws (Svelte's message) outside the app's tree. */
export const getApp: () => AppState = getAppContext;
/** Called once, by app.svelte, during its initialisation. */
export const setApp: (app: AppState) => AppState = setAppContext;
