// The one way the sandbox runs git (`runGit`, or a `Git` bound to a folder), and the helpers its files share:
// results and refusals as data, the repository root, our commit identity, the diff flags and pathspecs, rev-parse
// and commit-tree. patch.ts, carry.ts and worktree.ts build on this file; it imports none of them.

import { execFile } from "node:child_process";
import { realpathSync, statSync } from "node:fs";

/** What a sandbox operation gives back: a value, or an error as data (nothing thrown). */
export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

export interface GitOutput {
	code: number;
	stdout: string;
	stderr: string;
}

export type Git = (args: readonly string[], env?: Record<string, string>) => Promise<GitOutput>;

const UNCHANGED = "Nothing was changed in your working tree, index or branches.";
/** Enough for a large binary patch; execFile's default (1 MiB) is not. */
const MAX_OUTPUT = 512 * 1024 * 1024;
/** Inherited variables that would point git somewhere other than the folder it runs in (a hook sets them). */
const LOCATION_VARIABLES = [
	"GIT_DIR",
	"GIT_WORK_TREE",
	"GIT_INDEX_FILE",
	"GIT_COMMON_DIR",
	"GIT_PREFIX",
	"GIT_OBJECT_DIRECTORY",
];

/**
 * Runs git in `cwd` and resolves with its exit code and output, never rejecting.
 * NOTE: execFile rather than simple-git: simple-git reports a non-zero exit with an empty stderr as success, and
 * several answers here are exit codes alone (`rev-parse --verify --quiet`, `merge-base --is-ancestor`,
 * `apply --check --reverse`); we also need stderr as data and `GIT_INDEX_FILE` set per call.
 * Hooks are off (`core.hooksPath` to nowhere): a sandbox's checkouts and ref updates run no user scripts.
 * `--no-optional-locks` keeps `git status` from rewriting the user's index.
 */
export function runGit(cwd: string, args: readonly string[], env: Record<string, string> = {}): Promise<GitOutput> {
	const fullEnv: NodeJS.ProcessEnv = { ...process.env, LC_ALL: "C", GIT_TERMINAL_PROMPT: "0" };
	for (const name of LOCATION_VARIABLES) delete fullEnv[name];
	Object.assign(fullEnv, env);
	const fullArgs = ["--no-optional-locks", "-c", "core.hooksPath=/dev/null", ...args];
	return new Promise((resolve) => {
		execFile(
			"git",
			fullArgs,
			{ cwd, env: fullEnv, maxBuffer: MAX_OUTPUT, encoding: "utf8" },
			(error, stdout, stderr) => {
				if (!error) return resolve({ code: 0, stdout, stderr });
				const code = typeof error.code === "number" ? error.code : -1;
				resolve({ code, stdout, stderr: stderr.trim() === "" ? error.message : stderr });
			},
		);
	});
}

/** `runGit` bound to one folder. */
export const gitIn =
	(cwd: string): Git =>
	(args, env) =>
		runGit(cwd, args, env);

/** The first line git printed about a failure, for messages. */
export function gitSaid(output: GitOutput): string {
	const line = output.stderr.split("\n").find((text) => text.trim() !== "") ?? `exit code ${output.code}`;
	return line.trim();
}

/** A refusal naming the caller and saying that the user's tree was left as it was. */
export function failure(label: string, problem: string): { ok: false; error: string } {
	return { ok: false, error: `${label}: ${problem}. ${UNCHANGED}` };
}

export const refuse = (error: string) => ({ ok: false as const, error });

/** The top level (real path) of the repository holding `cwd`. */
export async function repoRootOf(cwd: string, label: string): Promise<Result<string>> {
	const notRepo = (found: string) =>
		failure(
			label,
			`not a git repository: ${cwd}; worktree stages need one (expected a folder inside a git working tree, found ${found})`,
		);
	if (!isDirectory(cwd)) return notRepo("no folder there");
	const top = await runGit(cwd, ["rev-parse", "--show-toplevel"]);
	const root = top.stdout.trim();
	if (top.code !== 0 || root === "") return notRepo(`none (git: ${gitSaid(top)})`);
	return { ok: true, value: realpathSync(root) };
}

export function isDirectory(path: string): boolean {
	try {
		return statSync(path).isDirectory();
	} catch {
		return false;
	}
}

/** Commits are ours, whoever the machine's git identity is (or whether it has one). */
const IDENTITY = {
	GIT_AUTHOR_NAME: "pi-workflows",
	GIT_AUTHOR_EMAIL: "pi-workflows@localhost",
	GIT_COMMITTER_NAME: "pi-workflows",
	GIT_COMMITTER_EMAIL: "pi-workflows@localhost",
};
// NOTE: explicit against the user's diff config: prefixes (diff.noprefix, mnemonicPrefix), textconv, colour,
// external drivers and diff.relative would each make a patch `git apply` cannot take.
export const DIFF = [
	"diff",
	"--binary",
	"--no-color",
	"--no-ext-diff",
	"--no-textconv",
	"--no-relative",
	"--submodule=short",
];
export const PREFIXES = ["--src-prefix=a/", "--dst-prefix=b/"];

/** The object `spec` names (`<ref>^{commit}`, `HEAD^{tree}`), if any. */
export async function revParse(git: Git, spec: string): Promise<string | undefined> {
	if (spec.startsWith("-")) return undefined;
	const parsed = await git(["rev-parse", "--verify", "--quiet", spec]);
	return parsed.code === 0 ? parsed.stdout.trim() : undefined;
}

export async function commitTree(git: Git, tree: string, parent: string, message: string): Promise<Result<string>> {
	const made = await git(["commit-tree", "--no-gpg-sign", tree, "-p", parent, "-m", message], IDENTITY);
	const commit = made.stdout.trim();
	if (made.code !== 0 || commit === "")
		return refuse(`git commit-tree failed: expected a commit, found: ${gitSaid(made)}`);
	return { ok: true, value: commit };
}

/** Pathspecs leaving the linked paths out (a symlink is not a folder, so `node_modules/` in .gitignore misses it). */
export function excludes(links: readonly string[]): string[] {
	return links.map((entry) => `:(top,exclude,literal)${entry}`);
}

/** Work on a repository's worktree list, one at a time per repository: two `git worktree add` at once can read
 * each other's half-written admin folder ("failed to read .git/worktrees/<name>/commondir"). */
const repositoryQueues = new Map<string, Promise<unknown>>();

export function oneAtATime<T>(repository: string, work: () => Promise<T>): Promise<T> {
	const before = repositoryQueues.get(repository) ?? Promise.resolve();
	const turn = before.then(work, work);
	const settled = turn.then(
		() => undefined,
		() => undefined,
	);
	repositoryQueues.set(repository, settled);
	void settled.then(() => {
		if (repositoryQueues.get(repository) === settled) repositoryQueues.delete(repository);
	});
	return turn;
}
