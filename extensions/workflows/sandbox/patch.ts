// Patches of a stage's work: summarized from the diff text, checked against and applied to the user's working
// tree. Always from the repository root: `git apply` run in a subfolder skips every path outside it and reports
// success.

import { readFileSync } from "node:fs";
import { failure, type GitOutput, gitSaid, type Result, repoRootOf, runGit } from "./git.js";

export interface FileChange {
	/** Path relative to the repository root (the new path of a rename, the old one of a deletion). */
	path: string;
	insertions: number;
	deletions: number;
	/** What happened to the file; "binary" is a binary file changed in place (added, deleted, renamed win). */
	status: "added" | "modified" | "deleted" | "renamed" | "binary";
	/** Whether the content is binary (no line counts), whatever the status. */
	binary: boolean;
	/** The path before a rename. */
	oldPath?: string;
}

export interface ChangeSummary {
	files: FileChange[];
	insertions: number;
	deletions: number;
}

/** Files and line counts of a unified git diff (what `git diff --numstat` would say); binary files count, 0/0. */
export function summarizePatch(patchText: string): ChangeSummary {
	const files: FileChange[] = [];
	let file: FileChange | undefined;
	// Lines still to come in the current hunk, from its header: inside a hunk "--- x" is a removed line.
	let oldLeft = 0;
	let newLeft = 0;
	for (const line of patchText.split("\n")) {
		if (file && (oldLeft > 0 || newLeft > 0)) {
			if (line.startsWith("+")) {
				file.insertions++;
				newLeft--;
			} else if (line.startsWith("-")) {
				file.deletions++;
				oldLeft--;
			} else if (!line.startsWith("\\")) {
				oldLeft--;
				newLeft--;
			}
			continue;
		}
		if (line.startsWith("diff --git ")) {
			file = {
				path: headerPath(line.slice("diff --git ".length)),
				insertions: 0,
				deletions: 0,
				status: "modified",
				binary: false,
			};
			files.push(file);
			continue;
		}
		if (!file) continue;
		const hunk = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/.exec(line);
		if (hunk) {
			oldLeft = Number(hunk[1] ?? 1);
			newLeft = Number(hunk[2] ?? 1);
		} else if (line.startsWith("new file mode ")) file.status = "added";
		else if (line.startsWith("deleted file mode ")) file.status = "deleted";
		else if (line.startsWith("rename from ")) {
			file.status = "renamed";
			file.oldPath = unquote(line.slice("rename from ".length));
		} else if (line.startsWith("rename to ")) file.path = unquote(line.slice("rename to ".length));
		else if (line.startsWith("copy to ")) {
			file.status = "added";
			file.path = unquote(line.slice("copy to ".length));
		} else if (line === "GIT binary patch" || /^Binary files .* differ$/.test(line)) file.binary = true;
		else if (line.startsWith("+++ ") && !line.startsWith("+++ /dev/null"))
			file.path = stripPrefix(unquote(line.slice(4)));
	}
	for (const change of files) {
		if (change.binary && change.status === "modified") change.status = "binary";
	}
	return {
		files,
		insertions: files.reduce((sum, change) => sum + change.insertions, 0),
		deletions: files.reduce((sum, change) => sum + change.deletions, 0),
	};
}

/** The path of `a/<path> b/<path>` (a rename's or a `+++` line's path replaces it later when there is one). */
function headerPath(rest: string): string {
	if (rest.startsWith('"')) {
		const end = closingQuote(rest);
		const second = rest.slice(end + 2);
		return stripPrefix(unquote(second === "" ? rest.slice(0, end + 1) : second));
	}
	// Unquoted and the same path on both sides: "a/P b/P" (P may hold spaces, so no split on one).
	const length = (rest.length - 5) / 2;
	const same = rest.slice(2, 2 + length);
	if (Number.isInteger(length) && same === rest.slice(length + 5)) return same;
	const split = rest.lastIndexOf(" b/");
	return stripPrefix(split >= 0 ? rest.slice(split + 1) : rest);
}

function closingQuote(text: string): number {
	for (let index = 1; index < text.length; index++) {
		if (text[index] === "\\") index++;
		else if (text[index] === '"') return index;
	}
	return text.length - 1;
}

function stripPrefix(path: string): string {
	return path.startsWith("a/") || path.startsWith("b/") ? path.slice(2) : path;
}

const ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, "\\": 92 };

/** A path as git writes it: C-quoted (octal bytes of UTF-8) when it holds unusual characters; a trailing tab dropped. */
function unquote(raw: string): string {
	const text = raw.endsWith("\t") ? raw.slice(0, -1) : raw;
	if (!text.startsWith('"') || !text.endsWith('"') || text.length < 2) return text;
	const bytes: number[] = [];
	for (let index = 1; index < text.length - 1; index++) {
		const char = text[index]!;
		if (char !== "\\") {
			bytes.push(...Buffer.from(char, "utf8"));
			continue;
		}
		const next = text[index + 1] ?? "";
		const octal = /^[0-7]{3}/.exec(text.slice(index + 1, index + 4));
		if (octal) {
			bytes.push(Number.parseInt(octal[0], 8));
			index += 3;
		} else {
			bytes.push(ESCAPES[next] ?? next.charCodeAt(0));
			index++;
		}
	}
	return Buffer.from(bytes).toString("utf8");
}

/** `git apply` as we always run it: from the root, whitespace as it is (a user's `apply.whitespace=error` aside). */
function gitApply(root: string, patchFile: string, flags: readonly string[]): Promise<GitOutput> {
	return runGit(root, ["apply", "--whitespace=nowarn", ...flags, "--", patchFile]);
}

type PatchInput = { ok: true; root: string; text: string } | { ok: false; error: string };

async function readPatch(repoCwd: string, patchFile: string, label: string): Promise<PatchInput> {
	const root = await repoRootOf(repoCwd, label);
	if (!root.ok) return root;
	try {
		return { ok: true, root: root.value, text: readFileSync(patchFile, "utf8") };
	} catch (error) {
		const found = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no file there" : String(error);
		return failure(label, `cannot read patch ${patchFile}: expected a patch file, found ${found}`);
	}
}

/** Would the patch apply cleanly to the user's tree? `conflicts` names each file that does not apply and why. */
export async function checkPatch(
	repoCwd: string,
	patchFile: string,
	label: string,
): Promise<{ ok: true } | { ok: false; error: string; conflicts: string[] }> {
	const input = await readPatch(repoCwd, patchFile, label);
	if (!input.ok) return { ...input, conflicts: [] };
	return checkInput(input, patchFile, label);
}

async function checkInput(
	input: { root: string; text: string },
	patchFile: string,
	label: string,
): Promise<{ ok: true } | { ok: false; error: string; conflicts: string[] }> {
	// NOTE: git apply refuses an empty patch ("No valid patches in input") before 2.35's --allow-empty.
	if (input.text.trim() === "") return { ok: true };
	const check = await gitApply(input.root, patchFile, ["--check"]);
	if (check.code === 0) return { ok: true };
	const conflicts = conflictsOf(check.stderr);
	const found = conflicts.length > 0 ? `conflicts in ${conflicts.join("; ")}` : `git apply --check: ${gitSaid(check)}`;
	const problem = `patch ${patchFile} does not apply to ${input.root}: expected every file to apply, found ${found}`;
	return { ok: false, error: failure(label, problem).error, conflicts };
}

/** Each file `git apply --check` refused, as "path: reason (hunk at line N)". */
function conflictsOf(stderr: string): string[] {
	const failedAt = new Map<string, string>();
	const conflicts: string[] = [];
	for (const line of stderr.split("\n")) {
		if (!line.startsWith("error: ")) continue;
		const message = line.slice("error: ".length);
		const failed = /^patch failed: (.*):(\d+)$/.exec(message);
		if (failed) {
			failedAt.set(failed[1]!, failed[2]!);
			continue;
		}
		const colon = message.lastIndexOf(": ");
		if (colon < 0) {
			if (message.startsWith("affected file ")) conflicts.push(message);
			continue;
		}
		const path = message.slice(0, colon);
		const at = failedAt.get(path);
		conflicts.push(`${path}: ${message.slice(colon + 2)}${at === undefined ? "" : ` (hunk at line ${at})`}`);
	}
	return conflicts;
}

/** Applies the whole patch to the user's working tree or nothing (git apply without --reject is atomic). */
export async function applyPatch(repoCwd: string, patchFile: string, label: string): Promise<Result<ChangeSummary>> {
	const input = await readPatch(repoCwd, patchFile, label);
	if (!input.ok) return input;
	const checked = await checkInput(input, patchFile, label);
	if (!checked.ok) return { ok: false, error: checked.error };
	const summary = summarizePatch(input.text);
	if (input.text.trim() === "") return { ok: true, value: summary };
	const applied = await gitApply(input.root, patchFile, []);
	if (applied.code !== 0) {
		return failure(
			label,
			`patch ${patchFile} did not apply to ${input.root}: expected it to apply as checked, found: ${gitSaid(applied)}`,
		);
	}
	return { ok: true, value: summary };
}

/** Whether the patch is already applied (its reverse applies cleanly); an empty patch always is. */
export async function isPatchApplied(repoCwd: string, patchFile: string): Promise<boolean> {
	const input = await readPatch(repoCwd, patchFile, "isPatchApplied");
	if (!input.ok) return false;
	if (input.text.trim() === "") return true;
	return (await gitApply(input.root, patchFile, ["--check", "--reverse"])).code === 0;
}
