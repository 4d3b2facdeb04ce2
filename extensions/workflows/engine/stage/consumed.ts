// What a stage consumed from earlier stages, as digests by node id: each `previous` result (its node's
// fingerprint and its content: the output file when it has one, else its text) and the fork source (its
// fingerprint and its transcript). A resume replays a stage only when these are unchanged, so a stage never
// serves a result built on an earlier stage's old output.

import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import type { Previous, StageResult } from "../../authoring/types.js";
import type { RunFold } from "../../store/run-fold.js";

export function consumedDigests(
	fold: RunFold,
	previous: Previous | undefined,
	fork: StageResult | undefined,
): Record<string, string> {
	const consumed: Record<string, string> = {};
	for (const result of previousResults(previous)) {
		consumed[result.id] = digest(fold, result.id, result.outputPath ? fileContent(result.outputPath) : result.text);
	}
	if (fork) consumed[fork.id] = digest(fold, fork.id, fileContent(fork.sessionFile));
	return consumed;
}

function previousResults(previous: Previous | undefined): readonly StageResult[] {
	if (previous === undefined || typeof previous === "string") return [];
	const list = Array.isArray(previous) ? previous : [previous];
	return list.filter(
		(item): item is StageResult => typeof item === "object" && item !== null && typeof item.id === "string",
	);
}

function digest(fold: RunFold, id: string, content: string | Buffer): string {
	const hash = createHash("sha256");
	hash.update(fold.node(id)?.fingerprint ?? "");
	hash.update("\0");
	hash.update(content);
	return hash.digest("hex").slice(0, 16);
}

function fileContent(path: string): Buffer | string {
	return existsSync(path) ? readFileSync(path) : "";
}
