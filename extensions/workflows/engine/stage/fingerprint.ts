// Fingerprint of a stage: a hash of everything that decides its result, so a resumed run can tell a
// recorded stage it may reuse from one whose definition changed.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

export interface FingerprintParts {
	prompt: string;
	model: string;
	tools?: readonly string[];
	systemPrompt?: string;
	/** Absolute paths of the files the stage reads; their contents are hashed too. */
	reads: readonly string[];
	output?: string;
	outputMode: string;
	context: string;
	forkFrom?: string;
	/** A Pi session file the stage forks from (`forkFromSessionFile`); its content is hashed too. */
	forkFile?: string;
	fallbackModels?: readonly string[];
	schema?: unknown;
	worktree?: unknown;
}

export function stageFingerprint(parts: FingerprintParts): string {
	const hash = createHash("sha256");
	const { reads, ...rest } = parts;
	hash.update(JSON.stringify(rest));
	for (const path of [...reads, ...(parts.forkFile ? [parts.forkFile] : [])]) {
		hash.update(`\0${path}\0`);
		hash.update(readFileSync(path));
	}
	return hash.digest("hex").slice(0, 16);
}
