// The user's uncommitted changes and their carry-over into a worktree: which paths of the user's tree differ from
// HEAD (staged, unstaged, deleted, untracked-not-ignored; linked setup paths aside), and a "carried changes" commit
// reproducing them on the worktree's base, built in temporary indexes so the user's index and tree are only read.

import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { commitTree, DIFF, excludes, type Git, gitSaid, PREFIXES, type Result, refuse, revParse } from "./git.js";

/** Changed, staged, deleted and untracked-not-ignored paths of the user's tree, linked paths aside. */
export async function dirtyFiles(git: Git, links: readonly string[]): Promise<Result<string[]>> {
	const status = await git([
		"status",
		"--porcelain=v1",
		"-z",
		"--untracked-files=normal",
		"--",
		":/",
		...excludes(links),
	]);
	if (status.code !== 0) {
		return refuse(
			`cannot read the state of your working tree: expected git status to succeed, found: ${gitSaid(status)}`,
		);
	}
	const paths: string[] = [];
	const fields = status.stdout.split("\0");
	for (let index = 0; index < fields.length; index++) {
		const field = fields[index]!;
		if (field.length < 4) continue;
		paths.push(field.slice(3));
		if (field[0] === "R" || field[0] === "C") index++; // the rename's source follows
	}
	return { ok: true, value: paths };
}

/**
 * A "carried changes" commit on `base` holding the user's working tree (tracked changes and untracked files) as
 * it differs from HEAD. Built in a temporary index, so the user's index and tree are only read.
 */
export async function carriedCommit(
	git: Git,
	repoRoot: string,
	head: string,
	base: string,
	links: readonly string[],
): Promise<Result<string>> {
	const temp = mkdtempSync(join(tmpdir(), "pi-workflows-carry-"));
	try {
		const env = { GIT_INDEX_FILE: join(temp, "index") };
		// A copy of the user's index lets git reuse its stat cache instead of hashing every file again.
		const userIndex = resolve(repoRoot, (await git(["rev-parse", "--git-path", "index"])).stdout.trim());
		if (existsSync(userIndex)) copyFileSync(userIndex, env.GIT_INDEX_FILE);
		else await git(["read-tree", head], env);
		const added = await git(["add", "-A", "--", ":/", ...excludes(links)], env);
		const tree = (await git(["write-tree"], env)).stdout.trim();
		if (added.code !== 0 || tree === "") {
			return refuse(
				`cannot read your uncommitted changes: expected git add -A to succeed, found: ${gitSaid(added)}`,
			);
		}
		if (tree === (await revParse(git, `${head}^{tree}`))) return { ok: true, value: base };
		if (head === base) return await commitTree(git, tree, base, "carried changes");
		// Another base: the changes (HEAD to the working tree) applied onto it, in a second temporary index.
		const patch = join(temp, "carried.patch");
		const onBase = { GIT_INDEX_FILE: join(temp, "base-index") };
		const diffed = await git([...DIFF, ...PREFIXES, `--output=${patch}`, head, tree]);
		const read = diffed.code === 0 ? await git(["read-tree", base], onBase) : diffed;
		const applied = read.code === 0 ? await git(["apply", "--cached", "--whitespace=nowarn", patch], onBase) : read;
		const baseTree = (await git(["write-tree"], onBase)).stdout.trim();
		if (applied.code !== 0 || baseTree === "") {
			return refuse(
				`your uncommitted changes do not apply onto base ${base}: expected them to apply cleanly, found: ${gitSaid(applied)}`,
			);
		}
		return await commitTree(git, baseTree, base, "carried changes");
	} finally {
		rmSync(temp, { recursive: true, force: true });
	}
}
