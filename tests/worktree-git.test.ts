// Worktree sandboxes and patches against real git repositories in temp folders: where a worktree starts, what
// it carries and links, what a snapshot's patch holds, how a patch applies to the user's tree (all or nothing),
// and that every refusal leaves the user's working tree, index and branches exactly as they were.

import { execFileSync } from "node:child_process";
import {
	existsSync,
	lstatSync,
	mkdirSync,
	mkdtempSync,
	readFileSync,
	renameSync,
	rmSync,
	writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { applyPatch, checkPatch, isPatchApplied, summarizePatch } from "../extensions/workflows/sandbox/patch.js";
import {
	checkWorktree,
	createWorktree,
	removeWorktree,
	snapshotWorktree,
	type Worktree,
	type WorktreeRequest,
} from "../extensions/workflows/sandbox/worktree.js";

const LABEL = 'Workflow "fix", stage "impl"';
const UNCHANGED = "Nothing was changed in your working tree, index or branches.";
const BINARY = Buffer.from([0, 1, 2, 3, 255, 254, 0, 10, 13, 0]);

const folders: string[] = [];
afterEach(() => {
	vi.unstubAllEnvs();
	for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

/** Git for the test's own setup, with the variables a hook could have set removed. */
function git(cwd: string, ...args: string[]): string {
	const env = { ...process.env };
	for (const name of ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"]) delete env[name];
	return execFileSync("git", args, { cwd, env, encoding: "utf8" });
}

function write(path: string, content: string | Buffer): void {
	mkdirSync(dirname(path), { recursive: true });
	writeFileSync(path, content);
}

function tempFolder(): string {
	const folder = mkdtempSync(join(tmpdir(), "pi-workflows-worktree-"));
	folders.push(folder);
	return folder;
}

/**
 * A repository on main with a local identity and one commit: a.txt (five lines), b.txt, old.txt, src/lib/. The run
 * folder is where the engine keeps it, inside the repository under the runs folder's ignore-everything .gitignore.
 */
function makeRepo(): { repo: string; runDir: string } {
	const folder = tempFolder();
	const repo = join(folder, "repo");
	mkdirSync(repo);
	git(repo, "init", "-q", "-b", "main");
	git(repo, "config", "user.name", "Test User");
	git(repo, "config", "user.email", "test@localhost");
	git(repo, "config", "commit.gpgsign", "false");
	write(join(repo, "a.txt"), "one\ntwo\nthree\nfour\nfive\n");
	write(join(repo, "b.txt"), "bee\n");
	write(join(repo, "old.txt"), "old\n");
	write(join(repo, "src", "lib", "code.ts"), "export const x = 1;\n");
	write(join(repo, ".gitignore"), "node_modules/\n*.log\n");
	git(repo, "add", "-A");
	git(repo, "commit", "-q", "-m", "initial");
	write(join(repo, ".pi", "workflows", "runs", ".gitignore"), "*\n");
	return { repo, runDir: join(repo, ".pi", "workflows", "runs", "run1") };
}

function request(repo: string, runDir: string, name: string, extra: Partial<WorktreeRequest> = {}): WorktreeRequest {
	return {
		repoCwd: repo,
		path: join(runDir, "worktrees", name),
		branch: `pi-workflows/run1/${name}`,
		label: LABEL,
		...extra,
	};
}

async function create(req: WorktreeRequest): Promise<Worktree> {
	const created = await createWorktree(req);
	if (!created.ok) throw new Error(created.error);
	return created.value;
}

/** Everything of the user's repository a sandbox must leave alone. */
function userState(repo: string) {
	return {
		status: git(repo, "status", "--porcelain=v1", "--untracked-files=all"),
		staged: git(repo, "diff", "--cached", "--binary"),
		unstaged: git(repo, "diff", "--binary"),
		refs: git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
		head: git(repo, "symbolic-ref", "HEAD"),
		worktrees: git(repo, "worktree", "list", "--porcelain"),
	};
}

function expectRefusal(result: { ok: boolean; error?: string }, ...parts: string[]): void {
	expect(result.ok).toBe(false);
	expect(result.error).toContain(LABEL);
	expect(result.error).toContain(UNCHANGED);
	for (const part of parts) expect(result.error).toContain(part);
}

describe("createWorktree", () => {
	it("starts from the commit the user is on, on a branch other than main", async () => {
		const { repo, runDir } = makeRepo();
		git(repo, "checkout", "-q", "-b", "feature");
		write(join(repo, "feature.txt"), "only on feature\n");
		git(repo, "add", "-A");
		git(repo, "commit", "-q", "-m", "feature work");
		const head = git(repo, "rev-parse", "HEAD").trim();

		const wt = await create(request(repo, runDir, "impl"));
		expect(wt.baseCommit).toBe(head);
		expect(git(wt.root, "rev-parse", "HEAD").trim()).toBe(head);
		expect(git(wt.root, "branch", "--show-current").trim()).toBe("pi-workflows/run1/impl");
		expect(readFileSync(join(wt.root, "feature.txt"), "utf8")).toBe("only on feature\n");
		expect(git(repo, "branch", "--show-current").trim()).toBe("feature");
	});

	it("starts from a given base ref", async () => {
		const { repo, runDir } = makeRepo();
		const main = git(repo, "rev-parse", "HEAD").trim();
		git(repo, "checkout", "-q", "-b", "feature");
		write(join(repo, "feature.txt"), "x\n");
		git(repo, "add", "-A");
		git(repo, "commit", "-q", "-m", "feature work");

		const wt = await create(request(repo, runDir, "impl", { base: "main" }));
		expect(wt.baseCommit).toBe(main);
		expect(existsSync(join(wt.root, "feature.txt"))).toBe(false);
	});

	it("puts cwd in the same folder relative to the repository as the user's", async () => {
		const { repo, runDir } = makeRepo();
		const wt = await create(request(repo, runDir, "impl", { repoCwd: join(repo, "src", "lib") }));
		expect(wt.repoRoot).toBe(git(repo, "rev-parse", "--show-toplevel").trim());
		expect(wt.cwd).toBe(join(wt.root, "src", "lib"));
		expect(readFileSync(join(wt.cwd, "code.ts"), "utf8")).toBe("export const x = 1;\n");
	});

	it("keeps edits in the worktree away from the user's files", async () => {
		const { repo, runDir } = makeRepo();
		const before = userState(repo);
		const wt = await create(request(repo, runDir, "impl"));
		write(join(wt.root, "a.txt"), "changed in the sandbox\n");
		write(join(wt.root, "added.txt"), "new\n");
		rmSync(join(wt.root, "b.txt"));

		expect(readFileSync(join(repo, "a.txt"), "utf8")).toBe("one\ntwo\nthree\nfour\nfive\n");
		expect(existsSync(join(repo, "added.txt"))).toBe(false);
		expect(existsSync(join(repo, "b.txt"))).toBe(true);
		const after = userState(repo);
		expect({ ...after, refs: before.refs, worktrees: before.worktrees }).toEqual(before);
	});

	it("keeps two worktrees created at once apart from each other", async () => {
		const { repo, runDir } = makeRepo();
		const [first, second] = await Promise.all([
			create(request(repo, runDir, "left")),
			create(request(repo, runDir, "right")),
		]);
		write(join(first.root, "a.txt"), "left\n");
		write(join(second.root, "a.txt"), "right\n");
		write(join(second.root, "right-only.txt"), "r\n");

		const left = await snapshotWorktree(first, first.baseCommit, join(runDir, "left.patch"));
		const right = await snapshotWorktree(second, second.baseCommit, join(runDir, "right.patch"));
		expect(left.ok && left.value.files.map((file) => file.path)).toEqual(["a.txt"]);
		expect(right.ok && right.value.files.map((file) => file.path).sort()).toEqual(["a.txt", "right-only.txt"]);
		expect(readFileSync(join(first.root, "a.txt"), "utf8")).toBe("left\n");
		expect(existsSync(join(first.root, "right-only.txt"))).toBe(false);
		expect(git(repo, "rev-parse", "pi-workflows/run1/left").trim()).not.toBe(
			git(repo, "rev-parse", "pi-workflows/run1/right").trim(),
		);
	});
});

describe("snapshotWorktree", () => {
	it("commits the work on the worktree's branch and writes its patch with a summary", async () => {
		const { repo, runDir } = makeRepo();
		const wt = await create(request(repo, runDir, "impl"));
		write(join(wt.root, "a.txt"), "one\nTWO\nthree\nfour\nfive\nsix\n");
		write(join(wt.root, "src", "new.ts"), "export const y = 2;\nexport const z = 3;\n");
		write(join(wt.root, "image.bin"), BINARY);
		rmSync(join(wt.root, "old.txt"));
		write(join(wt.root, "debug.log"), "ignored\n");
		const patchFile = join(runDir, "patches", "impl.patch");

		const snapshot = await snapshotWorktree(wt, wt.baseCommit, patchFile);
		if (!snapshot.ok) throw new Error(snapshot.error);
		expect(snapshot.value.commit).toBe(git(wt.root, "rev-parse", "pi-workflows/run1/impl").trim());
		expect(git(wt.root, "log", "-1", "--format=%an <%ae>").trim()).toBe("pi-workflows <pi-workflows@localhost>");
		expect(git(wt.root, "status", "--porcelain").trim()).toBe("");
		expect(snapshot.value.files).toEqual([
			{ path: "a.txt", insertions: 2, deletions: 1, status: "modified", binary: false },
			{ path: "image.bin", insertions: 0, deletions: 0, status: "added", binary: true },
			{ path: "old.txt", insertions: 0, deletions: 1, status: "deleted", binary: false },
			{ path: "src/new.ts", insertions: 2, deletions: 0, status: "added", binary: false },
		]);
		expect([snapshot.value.insertions, snapshot.value.deletions]).toEqual([4, 2]);
		const text = readFileSync(patchFile, "utf8");
		expect(text).toContain("GIT binary patch");
		expect(text).toContain("+TWO");
		expect(text).not.toContain("debug.log");

		// The patch carries the work exactly: applied to the user's tree, it reproduces the worktree's files.
		const applied = await applyPatch(repo, patchFile, LABEL);
		expect(applied.ok && applied.value.files.length).toBe(4);
		expect(readFileSync(join(repo, "image.bin"))).toEqual(BINARY);
		expect(readFileSync(join(repo, "a.txt"), "utf8")).toBe("one\nTWO\nthree\nfour\nfive\nsix\n");
		expect(existsSync(join(repo, "old.txt"))).toBe(false);
	});

	it("measures from an earlier snapshot, and writes an empty patch when nothing changed", async () => {
		const { repo, runDir } = makeRepo();
		const wt = await create(request(repo, runDir, "impl"));
		write(join(wt.root, "a.txt"), "first\n");
		const first = await snapshotWorktree(wt, wt.baseCommit, join(runDir, "1.patch"));
		if (!first.ok) throw new Error(first.error);
		write(join(wt.root, "b.txt"), "second\n");
		const second = await snapshotWorktree(wt, first.value.commit, join(runDir, "2.patch"));
		expect(second.ok && second.value.files.map((file) => file.path)).toEqual(["b.txt"]);

		const empty = await snapshotWorktree(wt, second.ok ? second.value.commit : "", join(runDir, "3.patch"));
		expect(empty.ok && empty.value).toMatchObject({ files: [], insertions: 0, deletions: 0 });
		expect(empty.ok && empty.value.commit).toBe(second.ok && second.value.commit);
		expect(readFileSync(join(runDir, "3.patch"), "utf8")).toBe("");
		expect(await applyPatch(repo, join(runDir, "3.patch"), LABEL)).toMatchObject({ ok: true, value: { files: [] } });
		expect(git(repo, "status", "--porcelain")).toBe("");
	});
});

describe("the user's git setup", () => {
	it("neither breaks the patch nor runs the user's hooks, whatever the repository's config says", async () => {
		const { repo, runDir } = makeRepo();
		const config: [string, string][] = [
			["diff.noprefix", "true"],
			["diff.mnemonicPrefix", "true"],
			["diff.external", "false"],
			["diff.renames", "false"],
			["color.ui", "always"],
			["apply.whitespace", "error"],
			["commit.gpgSign", "true"],
			["gpg.program", "false"],
			["status.showUntrackedFiles", "no"],
			["author.name", "Someone Else"],
		];
		for (const [key, value] of config) git(repo, "config", key, value);
		const marker = join(dirname(repo), "hook-ran");
		for (const hook of ["post-checkout", "reference-transaction", "pre-commit"]) {
			write(join(repo, ".git", "hooks", hook), `#!/bin/sh\necho ${hook} >> "${marker}"\n`);
			execFileSync("chmod", ["+x", join(repo, ".git", "hooks", hook)]);
		}
		write(join(repo, "untracked.txt"), "hidden by showUntrackedFiles=no\n");
		expectRefusal(await createWorktree(request(repo, runDir, "strict")), "untracked.txt");

		const wt = await create(request(repo, runDir, "impl", { carry: true }));
		expect(readFileSync(join(wt.root, "untracked.txt"), "utf8")).toBe("hidden by showUntrackedFiles=no\n");
		write(join(wt.root, "with space.txt"), "trailing whitespace   \n");
		write(join(wt.root, "café.txt"), "accent\n");
		renameSync(join(wt.root, "old.txt"), join(wt.root, "renamed.txt"));
		const patchFile = join(runDir, "impl.patch");
		const snapshot = await snapshotWorktree(wt, wt.baseCommit, patchFile);
		if (!snapshot.ok) throw new Error(snapshot.error);
		expect(snapshot.value.files.map((file) => [file.path, file.status])).toEqual([
			["café.txt", "added"],
			["renamed.txt", "renamed"],
			["with space.txt", "added"],
		]);
		expect(snapshot.value.files[1]?.oldPath).toBe("old.txt");
		expect(git(wt.root, "log", "-1", "--format=%an", "HEAD").trim()).toBe("pi-workflows");

		expect((await applyPatch(repo, patchFile, LABEL)).ok).toBe(true);
		expect(readFileSync(join(repo, "with space.txt"), "utf8")).toBe("trailing whitespace   \n");
		expect(readFileSync(join(repo, "café.txt"), "utf8")).toBe("accent\n");
		expect([existsSync(join(repo, "old.txt")), readFileSync(join(repo, "renamed.txt"), "utf8")]).toEqual([
			false,
			"old\n",
		]);
		expect(await isPatchApplied(repo, patchFile)).toBe(true);
		expect((await removeWorktree(wt, { deleteBranch: true })).ok).toBe(true);
		expect(existsSync(marker)).toBe(false);
	});

	it("works where a git hook set GIT_DIR and GIT_INDEX_FILE for another repository", async () => {
		const { repo, runDir } = makeRepo();
		const other = tempFolder();
		vi.stubEnv("GIT_DIR", join(other, ".git"));
		vi.stubEnv("GIT_INDEX_FILE", join(other, "index"));
		write(join(repo, "b.txt"), "dirty\n");
		const wt = await create(request(repo, runDir, "impl", { carry: true }));
		write(join(wt.root, "a.txt"), "edited\n");
		const snapshot = await snapshotWorktree(wt, wt.baseCommit, join(runDir, "impl.patch"));
		expect(snapshot.ok && snapshot.value.files.map((file) => file.path)).toEqual(["a.txt"]);
		expect(existsSync(join(other, "index"))).toBe(false);
	});
});

describe("linked setup paths", () => {
	it("symlinks node_modules into the worktree and keeps it out of the patch", async () => {
		const { repo, runDir } = makeRepo();
		write(join(repo, "node_modules", "dep", "index.js"), "module.exports = 1;\n");
		const wt = await create(request(repo, runDir, "impl", { link: ["node_modules"] }));
		const linked = join(wt.root, "node_modules");
		expect(lstatSync(linked).isSymbolicLink()).toBe(true);
		expect(readFileSync(join(linked, "dep", "index.js"), "utf8")).toBe("module.exports = 1;\n");
		// `node_modules/` in .gitignore matches folders only: git sees the symlink as an untracked file.
		expect(git(wt.root, "status", "--porcelain")).toContain("node_modules");

		write(join(wt.root, "a.txt"), "edited\n");
		const snapshot = await snapshotWorktree(wt, wt.baseCommit, join(runDir, "impl.patch"));
		expect(snapshot.ok && snapshot.value.files.map((file) => file.path)).toEqual(["a.txt"]);
		expect(readFileSync(join(runDir, "impl.patch"), "utf8")).not.toContain("node_modules");
		expect(git(wt.root, "ls-tree", "-r", "--name-only", "HEAD")).not.toContain("node_modules");

		expect(await removeWorktree(wt, { deleteBranch: true })).toEqual({ ok: true, value: undefined });
		expect(readFileSync(join(repo, "node_modules", "dep", "index.js"), "utf8")).toBe("module.exports = 1;\n");
	});

	it.each([
		["missing", ["node_modules"], 'link "node_modules" is missing'],
		["escaping with ..", ["../outside"], 'link "../outside" escapes the repository'],
		["absolute", ["/etc"], 'link "/etc" escapes the repository'],
		["tracked", ["src"], 'link "src" is tracked'],
	])("refuses a link entry that is %s", async (_case, link, message) => {
		const { repo, runDir } = makeRepo();
		const before = userState(repo);
		const req = request(repo, runDir, "impl", { link });
		expectRefusal(await createWorktree(req), message);
		expect(existsSync(req.path)).toBe(false);
		expect(userState(repo)).toEqual(before);
	});
});

describe("carrying uncommitted changes", () => {
	/** Staged, unstaged, deleted, untracked and ignored changes in the user's tree. */
	function dirty(repo: string): void {
		write(join(repo, "a.txt"), "one\ntwo\nthree\nfour\nfive\nstaged\n");
		git(repo, "add", "a.txt");
		write(join(repo, "b.txt"), "bee unstaged\n");
		rmSync(join(repo, "old.txt"));
		write(join(repo, "notes", "untracked.md"), "# notes\n");
		write(join(repo, "build.log"), "ignored\n");
	}

	it("refuses a dirty tree without carry, listing the files and changing nothing", async () => {
		const { repo, runDir } = makeRepo();
		dirty(repo);
		const before = userState(repo);
		const req = request(repo, runDir, "impl");
		const refused = await createWorktree(req);
		expectRefusal(refused, "uncommitted changes", "a.txt", "b.txt", "old.txt", "notes/", "carry: true");
		expect(refused.ok || refused.error).not.toContain("build.log");
		expect(existsSync(req.path)).toBe(false);
		expect(userState(repo)).toEqual(before);
	});

	it("carries them into the worktree as a commit of their own; the patch applies onto the still-dirty tree", async () => {
		const { repo, runDir } = makeRepo();
		const head = git(repo, "rev-parse", "HEAD").trim();
		dirty(repo);
		const before = userState(repo);
		const wt = await create(request(repo, runDir, "impl", { carry: true }));

		expect(readFileSync(join(wt.root, "a.txt"), "utf8")).toBe("one\ntwo\nthree\nfour\nfive\nstaged\n");
		expect(readFileSync(join(wt.root, "b.txt"), "utf8")).toBe("bee unstaged\n");
		expect(existsSync(join(wt.root, "old.txt"))).toBe(false);
		expect(readFileSync(join(wt.root, "notes", "untracked.md"), "utf8")).toBe("# notes\n");
		expect(existsSync(join(wt.root, "build.log"))).toBe(false);
		expect(git(wt.root, "log", "-1", "--format=%s %P", wt.baseCommit).trim()).toBe(`carried changes ${head}`);
		expect(git(wt.root, "status", "--porcelain")).toBe("");
		expect({ ...userState(repo), refs: before.refs, worktrees: before.worktrees }).toEqual(before);

		write(join(wt.root, "a.txt"), "ONE\ntwo\nthree\nfour\nfive\nstaged\n");
		write(join(wt.root, "notes", "untracked.md"), "# notes\nmore\n");
		const patchFile = join(runDir, "impl.patch");
		const snapshot = await snapshotWorktree(wt, wt.baseCommit, patchFile);
		expect(snapshot.ok && snapshot.value.files.map((file) => file.path)).toEqual(["a.txt", "notes/untracked.md"]);
		expect(readFileSync(patchFile, "utf8")).not.toContain("bee unstaged");

		expect((await applyPatch(repo, patchFile, LABEL)).ok).toBe(true);
		expect(readFileSync(join(repo, "a.txt"), "utf8")).toBe("ONE\ntwo\nthree\nfour\nfive\nstaged\n");
		expect(readFileSync(join(repo, "notes", "untracked.md"), "utf8")).toBe("# notes\nmore\n");
		expect(readFileSync(join(repo, "b.txt"), "utf8")).toBe("bee unstaged\n");
		expect(git(repo, "diff", "--cached", "--binary")).toBe(before.staged);
	});

	it("carries them onto another base", async () => {
		const { repo, runDir } = makeRepo();
		const main = git(repo, "rev-parse", "HEAD").trim();
		git(repo, "checkout", "-q", "-b", "feature");
		write(join(repo, "feature.txt"), "feature\n");
		git(repo, "add", "-A");
		git(repo, "commit", "-q", "-m", "feature work");
		write(join(repo, "b.txt"), "bee unstaged\n");

		const wt = await create(request(repo, runDir, "impl", { base: "main", carry: true }));
		expect(git(wt.root, "log", "-1", "--format=%s %P", wt.baseCommit).trim()).toBe(`carried changes ${main}`);
		expect(readFileSync(join(wt.root, "b.txt"), "utf8")).toBe("bee unstaged\n");
		expect(existsSync(join(wt.root, "feature.txt"))).toBe(false);

		// A change to a file main does not have cannot be carried there: refused, nothing made.
		write(join(repo, "feature.txt"), "feature edited\n");
		const before = userState(repo);
		const req = request(repo, runDir, "again", { base: "main", carry: true });
		expectRefusal(await createWorktree(req), "do not apply onto base", "feature.txt");
		expect(existsSync(req.path)).toBe(false);
		expect(userState(repo)).toEqual(before);
	});
});

describe("applying patches to the user's tree", () => {
	/** A patch from a worktree changing the first line of a.txt and b.txt. */
	async function twoFilePatch(repo: string, runDir: string): Promise<string> {
		const wt = await create(request(repo, runDir, "impl"));
		write(join(wt.root, "a.txt"), "ONE\ntwo\nthree\nfour\nfive\n");
		write(join(wt.root, "b.txt"), "BEE\n");
		const patchFile = join(runDir, "impl.patch");
		const snapshot = await snapshotWorktree(wt, wt.baseCommit, patchFile);
		if (!snapshot.ok) throw new Error(snapshot.error);
		return patchFile;
	}

	it("names the conflicting file and applies nothing when one of two files conflicts", async () => {
		const { repo, runDir } = makeRepo();
		const patchFile = await twoFilePatch(repo, runDir);
		write(join(repo, "a.txt"), "uno\ntwo\nthree\nfour\nfive\n");

		const checked = await checkPatch(repo, patchFile, LABEL);
		expect(checked.ok).toBe(false);
		if (checked.ok) return;
		expect(checked.conflicts).toHaveLength(1);
		expect(checked.conflicts[0]).toMatch(/^a\.txt: patch does not apply/);
		expectRefusal(checked, "a.txt", patchFile);

		expectRefusal(await applyPatch(repo, patchFile, LABEL), "a.txt: patch does not apply");
		expect(readFileSync(join(repo, "a.txt"), "utf8")).toBe("uno\ntwo\nthree\nfour\nfive\n");
		expect(readFileSync(join(repo, "b.txt"), "utf8")).toBe("bee\n");
		expect(await isPatchApplied(repo, patchFile)).toBe(false);
	});

	it("applies from the repository root when called from a subfolder, and then counts as applied", async () => {
		const { repo, runDir } = makeRepo();
		const patchFile = await twoFilePatch(repo, runDir);
		const subfolder = join(repo, "src", "lib");
		expect(await isPatchApplied(subfolder, patchFile)).toBe(false);
		expect(await checkPatch(subfolder, patchFile, LABEL)).toEqual({ ok: true });

		const applied = await applyPatch(subfolder, patchFile, LABEL);
		expect(applied.ok && applied.value).toMatchObject({ insertions: 2, deletions: 2 });
		expect(readFileSync(join(repo, "a.txt"), "utf8")).toBe("ONE\ntwo\nthree\nfour\nfive\n");
		expect(readFileSync(join(repo, "b.txt"), "utf8")).toBe("BEE\n");
		expect(git(repo, "diff", "--cached")).toBe("");
		expect(await isPatchApplied(subfolder, patchFile)).toBe(true);
	});

	it("refuses a patch file that is not there", async () => {
		const { repo, runDir } = makeRepo();
		expectRefusal(await applyPatch(repo, join(runDir, "none.patch"), LABEL), "none.patch", "no file there");
	});
});

describe("removeWorktree and checkWorktree", () => {
	it("removes the folder, its registration and its branch", async () => {
		const { repo, runDir } = makeRepo();
		const wt = await create(request(repo, runDir, "impl"));
		write(join(wt.root, "scratch.txt"), "untracked work\n");
		expect(await removeWorktree(wt, { deleteBranch: true })).toEqual({ ok: true, value: undefined });
		expect(existsSync(wt.root)).toBe(false);
		expect(git(repo, "worktree", "list", "--porcelain")).not.toContain(wt.root);
		expect(git(repo, "branch", "--list", wt.branch)).toBe("");
		expect(await removeWorktree(wt, { deleteBranch: true })).toEqual({ ok: true, value: undefined });
	});

	it("keeps the branch unless asked to delete it", async () => {
		const { repo, runDir } = makeRepo();
		const wt = await create(request(repo, runDir, "impl"));
		expect((await removeWorktree(wt, { deleteBranch: false })).ok).toBe(true);
		expect(existsSync(wt.root)).toBe(false);
		expect(git(repo, "branch", "--list", wt.branch).trim()).toBe(wt.branch);
	});

	it("finds a recorded worktree again, and says what is missing once its folder is gone", async () => {
		const { repo, runDir } = makeRepo();
		write(join(repo, "node_modules", "dep.js"), "1\n");
		const wt = await create(request(repo, runDir, "impl", { link: ["node_modules"] }));
		rmSync(join(wt.root, "node_modules"));
		expect(await checkWorktree(wt, LABEL)).toEqual({ ok: true, value: wt });
		expect(lstatSync(join(wt.root, "node_modules")).isSymbolicLink()).toBe(true);

		git(wt.root, "checkout", "-q", "--detach");
		expectRefusal(await checkWorktree(wt, LABEL), `expected "${wt.branch}", found a detached HEAD`);
		rmSync(wt.root, { recursive: true, force: true });
		expectRefusal(await checkWorktree(wt, LABEL), `worktree folder ${wt.root} is missing`);
	});
});

describe("refusals leave the user's repository as it was", () => {
	it("refuses a folder outside any git repository", async () => {
		const folder = tempFolder();
		vi.stubEnv("GIT_CEILING_DIRECTORIES", dirname(folder));
		expectRefusal(
			await createWorktree({ repoCwd: folder, path: join(folder, "wt"), branch: "b", label: LABEL }),
			`not a git repository: ${folder}; worktree stages need one`,
		);
		expect(existsSync(join(folder, "wt"))).toBe(false);
		expect((await checkPatch(folder, join(folder, "x.patch"), LABEL)).ok).toBe(false);
	});

	it("refuses a base ref that does not exist, naming it", async () => {
		const { repo, runDir } = makeRepo();
		const before = userState(repo);
		const req = request(repo, runDir, "impl", { base: "no-such-branch" });
		expectRefusal(await createWorktree(req), 'base ref "no-such-branch" does not exist');
		expect(existsSync(req.path)).toBe(false);
		expect(userState(repo)).toEqual(before);
	});

	it("refuses a path that exists, and one that already is this branch's worktree", async () => {
		const { repo, runDir } = makeRepo();
		const taken = join(runDir, "worktrees", "impl");
		write(join(taken, "keep.txt"), "mine\n");
		const before = userState(repo);
		expectRefusal(await createWorktree(request(repo, runDir, "impl")), `worktree path ${taken} already exists`);
		expect(readFileSync(join(taken, "keep.txt"), "utf8")).toBe("mine\n");
		expect(userState(repo)).toEqual(before);

		const wt = await create(request(repo, runDir, "other"));
		const registered = userState(repo);
		expectRefusal(
			await createWorktree(request(repo, runDir, "other")),
			`is already the worktree of branch "${wt.branch}"`,
			"checkWorktree",
		);
		expect(userState(repo)).toEqual(registered);
	});

	it("refuses a branch that exists", async () => {
		const { repo, runDir } = makeRepo();
		git(repo, "branch", "pi-workflows/run1/impl");
		const before = userState(repo);
		const req = request(repo, runDir, "impl");
		expectRefusal(await createWorktree(req), 'branch "pi-workflows/run1/impl" already exists');
		expect(existsSync(req.path)).toBe(false);
		expect(userState(repo)).toEqual(before);
	});

	it("leaves no folder or branch behind when git cannot create the branch", async () => {
		const { repo, runDir } = makeRepo();
		git(repo, "branch", "taken");
		const before = userState(repo);
		// refs/heads/taken is a file, so refs/heads/taken/impl cannot be made: git worktree add fails midway.
		const req = request(repo, runDir, "impl", { branch: "taken/impl" });
		expectRefusal(await createWorktree(req), "git worktree add");
		expect(existsSync(req.path)).toBe(false);
		expect(userState(repo)).toEqual(before);
	});
});

describe("a failure after the worktree exists", () => {
	it("removes the worktree and branch it made before returning the error", async () => {
		const { repo, runDir } = makeRepo();
		write(join(repo, "vendor"), "a file on main\n");
		git(repo, "add", "-A");
		git(repo, "commit", "-q", "-m", "vendor file");
		git(repo, "checkout", "-q", "-b", "feature");
		git(repo, "rm", "-q", "vendor");
		write(join(repo, ".gitignore"), "node_modules/\n*.log\nvendor/lib/\n");
		git(repo, "commit", "-q", "-am", "vendor becomes a folder");
		write(join(repo, "vendor", "lib", "dep.js"), "1\n");
		const before = userState(repo);
		// At base main, vendor is a file: the link vendor/lib cannot be made inside the new worktree.
		const req = request(repo, runDir, "impl", { base: "main", link: ["vendor/lib"] });
		expectRefusal(await createWorktree(req), "preparing the worktree");
		expect(existsSync(req.path)).toBe(false);
		expect(userState(repo)).toEqual(before);
		expect(readFileSync(join(repo, "vendor", "lib", "dep.js"), "utf8")).toBe("1\n");
	});
});

describe("summarizePatch", () => {
	it("counts lines inside hunks only, and reads renames, quoted names and names with spaces", () => {
		const patch = [
			"diff --git a/dash.txt b/dash.txt",
			"--- a/dash.txt",
			"+++ b/dash.txt",
			"@@ -1,2 +1,2 @@",
			"--- not a header",
			"+++ not a header either",
			" context",
			"diff --git a/old name.txt b/new name.txt",
			"similarity index 90%",
			"rename from old name.txt",
			"rename to new name.txt",
			'diff --git "a/caf\\303\\251.txt" "b/caf\\303\\251.txt"',
			"new file mode 100644",
			"--- /dev/null",
			'+++ "b/caf\\303\\251.txt"',
			"@@ -0,0 +1 @@",
			"+x",
			"diff --git a/logo.png b/logo.png",
			"index 1111111..2222222 100644",
			"Binary files a/logo.png and b/logo.png differ",
			"",
		].join("\n");
		expect(summarizePatch(patch)).toEqual({
			files: [
				{ path: "dash.txt", insertions: 1, deletions: 1, status: "modified", binary: false },
				{
					path: "new name.txt",
					oldPath: "old name.txt",
					insertions: 0,
					deletions: 0,
					status: "renamed",
					binary: false,
				},
				{ path: "café.txt", insertions: 1, deletions: 0, status: "added", binary: false },
				{ path: "logo.png", insertions: 0, deletions: 0, status: "binary", binary: true },
			],
			insertions: 2,
			deletions: 1,
		});
		expect(summarizePatch("")).toEqual({ files: [], insertions: 0, deletions: 0 });
	});
});
