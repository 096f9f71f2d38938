// Shared helpers for the reliability suite live beside this file.
export {};
