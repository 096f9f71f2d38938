// Shared helpers for the e2e suite live beside this file.
export {};
