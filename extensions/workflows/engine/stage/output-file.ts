// The file a stage's final answer goes to (`output`). The engine writes it after the stage answered, unless
// the stage wrote the file itself (with its tools): then the stage's work is kept and its closing message is
// only recorded. The path is checked again at that moment, and a symbolic link put in its place is never
// followed, so a stage cannot turn the engine's write into one outside the places a stage may write.

import { createHash } from "node:crypto";
import { closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { type PathRoots, resolveOutputPath } from "./paths.js";

/** A digest of the file's content now; undefined when there is no file. */
export function outputStamp(path: string): string | undefined {
	if (!existsSync(path)) return undefined;
	return createHash("sha256").update(readFileSync(path)).digest("hex").slice(0, 16);
}

export type OutputWrite = { ok: true; wroteByStage: boolean } | { ok: false; error: string };

/** Writes `text` to the stage's output file, unless its content changed since `stampAtStart` (the stage wrote it). */
export function writeStageOutput(
	path: string,
	text: string,
	roots: PathRoots,
	stampAtStart: string | undefined,
): OutputWrite {
	const now = outputStamp(path);
	if (now !== undefined && now !== stampAtStart) return { ok: true, wroteByStage: true };
	const checked = resolveOutputPath(path, roots);
	if (!checked.ok) return { ok: false, error: `${checked.error} (checked again before writing the answer)` };
	mkdirSync(dirname(path), { recursive: true });
	let fd: number;
	try {
		fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW);
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === "ELOOP")
			return { ok: false, error: `output: ${path} became a symbolic link during the stage; not written` };
		throw error;
	}
	try {
		writeSync(fd, text);
	} finally {
		closeSync(fd);
	}
	return { ok: true, wroteByStage: false };
}
