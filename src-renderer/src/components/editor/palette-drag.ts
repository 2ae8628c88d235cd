/** The drag-and-drop data type a palette entry carries, so the stack can tell it from a row being moved. */
export const PALETTE_MIME = 'application/x-cnn-workbench-layer';
