export const SOURCE_DIRS: string[];
export const SOURCE_FILES: string[];
export const STAMP: string;
export function sourceFiles(root: string): string[];
export function sourceHash(root: string, files?: string[]): string;
export function staleReason(root: string, distDir: string): string | null;
