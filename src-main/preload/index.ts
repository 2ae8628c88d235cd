// Placeholder entry: the desktop shell issue fills this in.
export {};
