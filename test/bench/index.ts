// Shared helpers for the bench suite live beside this file.
export {};
