// Writes a file so readers never see half of it: a temporary file next to it, then a rename.

import { renameSync, writeFileSync } from "node:fs";

export function writeAtomically(path: string, content: string): void {
	const temporary = `${path}.${process.pid}.tmp`;
	writeFileSync(temporary, content);
	renameSync(temporary, path);
}
