// Git worktree sandboxes for stages: one worktree on its own branch per stage, started from the user's commit
// (their uncommitted changes carried over on request, by carry.ts), setup folders linked in, the work snapshotted
// as a patch, and removed. The user's working tree, index and branches never change: every check comes before the
// first write, and a failure after it removes what was made (worktree, branch) before the error is returned.

import {
	existsSync,
	lstatSync,
	mkdirSync,
	readFileSync,
	realpathSync,
	renameSync,
	rmSync,
	statSync,
	symlinkSync,
	unlinkSync,
} from "node:fs";
import { dirname, isAbsolute, join, normalize, relative, resolve } from "node:path";
import { carriedCommit, dirtyFiles } from "./carry.js";
import {
	commitTree,
	DIFF,
	excludes,
	failure,
	type Git,
	gitIn,
	gitSaid,
	isDirectory,
	oneAtATime,
	PREFIXES,
	type Result,
	refuse,
	repoRootOf,
	revParse,
	runGit,
} from "./git.js";
import { type ChangeSummary, summarizePatch } from "./patch.js";

export type { Result } from "./git.js";
export type { ChangeSummary, FileChange } from "./patch.js";

export interface WorktreeRequest {
	/** The folder the user invoked from (any folder inside a repository). */
	repoCwd: string;
	/** Absolute folder the worktree goes to (the engine picks <runDir>/worktrees/<name>). */
	path: string;
	/** Branch to create for it, e.g. "pi-workflows/<runId>/<stage>". */
	branch: string;
	/** Ref to start from; default "HEAD" (the user's current commit, NOT the default branch). */
	base?: string;
	/** Carry the user's uncommitted changes (staged, unstaged, untracked-not-ignored files) into the worktree. Without it a dirty tree is refused. */
	carry?: boolean;
	/** Untracked setup paths, relative to the repository root (e.g. "node_modules"), symlinked into the worktree; never part of a patch. A missing one is an error. */
	link?: readonly string[];
	/** Names the caller in errors. */
	label: string;
}

export interface Worktree {
	/** Worktree top level (real path). */
	root: string;
	/** The user's repository top level (real path). */
	repoRoot: string;
	/** The user's folder relative to the repository, inside the worktree. */
	cwd: string;
	branch: string;
	/** The commit changes are measured from: the base, or a "carried changes" commit on top of it. */
	baseCommit: string;
	/** The linked setup paths, relative to the roots. */
	link: string[];
}

export interface Snapshot extends ChangeSummary {
	patchFile: string;
	from: string;
	/** The worktree's commit the patch runs to. */
	commit: string;
}

const MAX_LISTED = 10;

/** What createWorktree checked before making anything. */
interface Plan {
	repoRoot: string;
	/** The user's HEAD commit (none in a repository without commits). */
	head?: string;
	baseCommit: string;
	links: string[];
	/** The user's folder relative to the repository root. */
	cwdInRepo: string;
	/** Uncommitted paths of the user's tree, linked paths aside. */
	dirty: string[];
}

/** Creates the worktree and its branch, or changes nothing. */
export async function createWorktree(req: WorktreeRequest): Promise<Result<Worktree>> {
	const repo = await repoRootOf(req.repoCwd, req.label);
	if (!repo.ok) return repo;
	return oneAtATime(repo.value, () => createIn(repo.value, req));
}

async function createIn(repository: string, req: WorktreeRequest): Promise<Result<Worktree>> {
	const { label, branch } = req;
	const git = gitIn(repository);
	const plan = await checkRequest(req, repository, git);
	if (!plan.ok) return failure(label, plan.error);
	const { repoRoot, head, links, dirty } = plan.value;
	let start = plan.value.baseCommit;
	if (dirty.length > 0 && head !== undefined) {
		const carried = await carriedCommit(git, repoRoot, head, start, links);
		if (!carried.ok) return failure(label, carried.error);
		start = carried.value;
	}
	const added = await git(["worktree", "add", "--quiet", "-b", branch, req.path, start]);
	let problem = `git worktree add ${req.path} failed: expected a new worktree on "${branch}", found: ${gitSaid(added)}`;
	if (added.code === 0) {
		try {
			const root = realpathSync(req.path);
			linkInto(root, repoRoot, links);
			const cwd = join(root, plan.value.cwdInRepo);
			if (!existsSync(cwd)) mkdirSync(cwd, { recursive: true });
			return { ok: true, value: { root, repoRoot, cwd, branch, baseCommit: start, link: links } };
		} catch (error) {
			problem = `preparing the worktree at ${req.path} failed: expected to link the setup paths, found ${String(error)}`;
		}
	}
	// The path and the branch did not exist before: both are ours to remove.
	const made = { root: req.path, repoRoot, branch, link: links };
	const left = await removeMade(made, { deleteBranch: true, ownFolder: true });
	if (left === undefined) return failure(label, problem);
	return refuse(`${label}: ${problem}; cleaning up failed too (${left}): remove it and branch "${branch}" by hand`);
}

/** Every check of a request, before anything is made: base, branch, path, links, the user's tree. */
async function checkRequest(req: WorktreeRequest, repoRoot: string, git: Git): Promise<Result<Plan>> {
	const { branch } = req;
	const base = req.base ?? "HEAD";
	const head = await revParse(git, "HEAD^{commit}");
	const baseCommit = base === "HEAD" ? head : await revParse(git, `${base}^{commit}`);
	if (baseCommit === undefined) {
		const found = base === "HEAD" ? "HEAD has no commit yet" : `no commit or ref named "${base}" in ${repoRoot}`;
		return refuse(`base ref "${base}" does not exist: expected a commit to start the worktree from, found ${found}`);
	}
	if ((await git(["check-ref-format", "--branch", branch])).code !== 0) {
		return refuse(
			`branch "${branch}" is not a valid branch name: expected one git check-ref-format accepts, found it refused`,
		);
	}
	const pathProblem = await checkNewPath(git, req.path, branch);
	if (pathProblem) return refuse(pathProblem);
	if ((await revParse(git, `refs/heads/${branch}`)) !== undefined) {
		return refuse(`branch "${branch}" already exists in ${repoRoot}: expected a new branch name for the worktree`);
	}
	const links = await checkLinks(git, repoRoot, baseCommit, req.link ?? []);
	if (!links.ok) return links;
	const cwdInRepo = relative(repoRoot, realpathSync(req.repoCwd));
	const linkedCwd = links.value.find((entry) => cwdInRepo === entry || cwdInRepo.startsWith(`${entry}/`));
	if (linkedCwd !== undefined) {
		return refuse(
			`${req.repoCwd} is inside the linked path "${linkedCwd}": expected a folder the worktree has a copy of`,
		);
	}
	const dirty = await dirtyFiles(git, links.value);
	if (!dirty.ok) return dirty;
	if (dirty.value.length > 0 && !req.carry) {
		const listed = dirty.value.slice(0, MAX_LISTED).join(", ");
		const more = dirty.value.length > MAX_LISTED ? ` and ${dirty.value.length - MAX_LISTED} more` : "";
		return refuse(
			`${repoRoot} has uncommitted changes: expected a clean working tree, found ${listed}${more}; commit or stash them, or pass \`carry: true\` to take them into the worktree`,
		);
	}
	return { ok: true, value: { repoRoot, head, baseCommit, links: links.value, cwdInRepo, dirty: dirty.value } };
}

/** On resume: the recorded worktree is still there, registered with git, on its branch; missing links are remade. */
export async function checkWorktree(recorded: Worktree, label: string): Promise<Result<Worktree>> {
	const { root, branch } = recorded;
	const repo = await repoRootOf(recorded.repoRoot, label);
	if (!repo.ok) return repo;
	if (!isDirectory(root)) {
		return failure(
			label,
			`worktree folder ${root} is missing: expected the worktree of branch "${branch}" there, found nothing`,
		);
	}
	const entry = (await listWorktrees(gitIn(repo.value))).find((listed) => samePath(listed.path, root));
	if (!entry) {
		return failure(
			label,
			`${root} is not a registered worktree of ${repo.value}: expected it in \`git worktree list\`, found it missing there`,
		);
	}
	if (entry.branch !== `refs/heads/${branch}`) {
		const found = entry.branch ? `"${entry.branch.replace("refs/heads/", "")}"` : "a detached HEAD";
		return failure(label, `worktree ${root} is not on its branch: expected "${branch}", found ${found}`);
	}
	const ancestor = await runGit(root, ["merge-base", "--is-ancestor", recorded.baseCommit, "HEAD"]);
	if (ancestor.code !== 0) {
		return failure(
			label,
			`worktree ${root} lost its base: expected commit ${recorded.baseCommit} in the history of "${branch}", found it missing`,
		);
	}
	try {
		linkInto(root, repo.value, recorded.link);
		if (!existsSync(recorded.cwd)) mkdirSync(recorded.cwd, { recursive: true });
	} catch (error) {
		return failure(
			label,
			`worktree ${root} cannot be prepared again: expected its setup paths linked, found ${String(error)}`,
		);
	}
	return { ok: true, value: { ...recorded, root: realpathSync(root), repoRoot: repo.value } };
}

/**
 * Commits everything in the worktree (linked paths excluded) on its branch if anything changed, then writes
 * `git diff --binary from..HEAD` to patchFile and summarizes it. `label` names the caller in errors.
 */
export async function snapshotWorktree(
	wt: Worktree,
	from: string,
	patchFile: string,
	label = defaultLabel(wt),
): Promise<Result<Snapshot>> {
	const git = gitIn(wt.root);
	if (!isDirectory(wt.root))
		return failure(label, `cannot snapshot: expected the worktree folder, found nothing at ${wt.root}`);
	const onBranch = (await git(["symbolic-ref", "-q", "HEAD"])).stdout.trim();
	if (onBranch !== `refs/heads/${wt.branch}`) {
		return failure(label, `cannot snapshot: expected HEAD on "${wt.branch}", found ${onBranch || "a detached HEAD"}`);
	}
	const fromCommit = await revParse(git, `${from}^{commit}`);
	if (fromCommit === undefined) {
		return failure(label, `cannot snapshot: expected "${from}" to be a commit, found no such commit in ${wt.root}`);
	}
	const scope = ["--", ":/", ...excludes(wt.link)];
	const added = await git(["add", "-A", ...scope]);
	const tree = (await git(["write-tree"])).stdout.trim();
	let commit = (await revParse(git, "HEAD^{commit}")) ?? "";
	if (added.code !== 0 || tree === "" || commit === "") {
		return failure(label, `cannot snapshot: expected git add -A and write-tree to succeed, found: ${gitSaid(added)}`);
	}
	if (tree !== (await revParse(git, "HEAD^{tree}"))) {
		const made = await commitTree(git, tree, commit, "pi-workflows: snapshot");
		if (!made.ok) return failure(label, made.error);
		const moved = await git(["update-ref", "-m", "pi-workflows: snapshot", "HEAD", made.value, commit]);
		if (moved.code !== 0)
			return failure(label, `cannot snapshot: expected to move "${wt.branch}", found: ${gitSaid(moved)}`);
		commit = made.value;
	}
	mkdirSync(dirname(patchFile), { recursive: true });
	const partial = `${patchFile}.${process.pid}.tmp`;
	const diff = await git([...DIFF, ...PREFIXES, "-M", `--output=${partial}`, fromCommit, commit, ...scope]);
	if (diff.code !== 0) {
		rmSync(partial, { force: true });
		return failure(label, `cannot snapshot: expected git diff ${from}..HEAD to succeed, found: ${gitSaid(diff)}`);
	}
	renameSync(partial, patchFile);
	const summary = summarizePatch(readFileSync(patchFile, "utf8"));
	return { ok: true, value: { ...summary, patchFile, from: fromCommit, commit } };
}

/** Removes the worktree folder and its git registration; deletes its branch when deleteBranch. Done twice is fine. */
export function removeWorktree(
	wt: Worktree,
	options: { deleteBranch: boolean; label?: string },
): Promise<Result<void>> {
	return oneAtATime(wt.repoRoot, () => removeNow(wt, options));
}

async function removeNow(wt: Worktree, options: { deleteBranch: boolean; label?: string }): Promise<Result<void>> {
	const label = options.label ?? defaultLabel(wt);
	const repo = await repoRootOf(wt.repoRoot, label);
	if (!repo.ok) return repo;
	const problem = await removeMade(
		{ ...wt, repoRoot: repo.value },
		{ deleteBranch: options.deleteBranch, ownFolder: false },
	);
	return problem ? failure(label, problem) : { ok: true, value: undefined };
}

function defaultLabel(wt: Worktree): string {
	return `Worktree ${wt.root} (branch "${wt.branch}")`;
}

type Made = Pick<Worktree, "root" | "repoRoot" | "branch" | "link">;

/**
 * Removes a worktree (its links first, so nothing behind them is touched) and its branch; what failed, if anything.
 * `ownFolder`: the folder was made by us just now, so it goes even when git no longer knows it.
 */
async function removeMade(
	made: Made,
	options: { deleteBranch: boolean; ownFolder: boolean },
): Promise<string | undefined> {
	const git = gitIn(made.repoRoot);
	for (const entry of made.link) {
		const at = join(made.root, entry);
		if (isSymlink(at)) unlinkSync(at);
	}
	// Twice forced: also when it holds untracked files or is locked. A folder already gone just loses its registration.
	const removed = await git(["worktree", "remove", "--force", "--force", made.root]);
	if (options.ownFolder) rmSync(made.root, { recursive: true, force: true });
	if (existsSync(made.root) || (await listWorktrees(git)).some((listed) => samePath(listed.path, made.root))) {
		return `cannot remove worktree ${made.root}: expected git worktree remove to remove it, found: ${gitSaid(removed)}`;
	}
	if (options.deleteBranch && (await revParse(git, `refs/heads/${made.branch}`)) !== undefined) {
		const deleted = await git(["branch", "-D", made.branch]);
		if (deleted.code !== 0)
			return `cannot delete branch "${made.branch}": expected git branch -D to succeed, found: ${gitSaid(deleted)}`;
	}
	return undefined;
}

/** Why `path` cannot take a new worktree, if it cannot. */
async function checkNewPath(git: Git, path: string, branch: string): Promise<string | undefined> {
	if (!isAbsolute(path))
		return `worktree path "${path}" is relative: expected an absolute folder, found a relative one`;
	if (!existsSync(path) && !isSymlink(path)) return undefined;
	const entry = (await listWorktrees(git)).find((listed) => samePath(listed.path, path));
	if (entry?.branch === `refs/heads/${branch}`) {
		return `${path} is already the worktree of branch "${branch}": expected a new folder (reuse goes through checkWorktree)`;
	}
	return `worktree path ${path} already exists: expected a folder that does not exist yet`;
}

/** The link entries, normalized; each relative, inside the repository, present, and not tracked at the base. */
async function checkLinks(
	git: Git,
	repoRoot: string,
	base: string,
	entries: readonly string[],
): Promise<Result<string[]>> {
	const links: string[] = [];
	for (const entry of entries) {
		const path = normalize(entry).replace(/\/+$/, "");
		const parts = path.split("/");
		if (isAbsolute(entry) || path === "." || path === "" || parts.includes("..") || parts[0] === ".git") {
			return refuse(`link "${entry}" escapes the repository: expected a path relative to ${repoRoot} inside it`);
		}
		if (!existsSync(join(repoRoot, path))) {
			return refuse(`link "${entry}" is missing: expected ${join(repoRoot, path)} to exist, found nothing`);
		}
		const tracked = await git(["ls-tree", "--name-only", base, "--", path]);
		if (tracked.stdout.trim() !== "") {
			return refuse(`link "${entry}" is tracked: expected an untracked setup path, found it in commit ${base}`);
		}
		links.push(path);
	}
	return { ok: true, value: links };
}

/** Symlinks each setup path of the repository into the worktree (those already there are kept). */
function linkInto(root: string, repoRoot: string, links: readonly string[]): void {
	for (const entry of links) {
		const at = join(root, entry);
		if (isSymlink(at)) continue;
		const target = join(repoRoot, entry);
		mkdirSync(dirname(at), { recursive: true });
		symlinkSync(target, at, statSync(target).isDirectory() ? "dir" : "file");
	}
}

function isSymlink(path: string): boolean {
	try {
		return lstatSync(path).isSymbolicLink();
	} catch {
		return false;
	}
}

function samePath(a: string, b: string): boolean {
	const real = (path: string) => (existsSync(path) ? realpathSync(path) : resolve(path));
	return real(a) === real(b);
}

/** `git worktree list --porcelain`: each worktree's path and branch ref (none when detached). */
async function listWorktrees(git: Git): Promise<{ path: string; branch?: string }[]> {
	const listed = await git(["worktree", "list", "--porcelain"]);
	const worktrees: { path: string; branch?: string }[] = [];
	for (const line of listed.stdout.split("\n")) {
		if (line.startsWith("worktree ")) worktrees.push({ path: line.slice("worktree ".length) });
		else if (line.startsWith("branch ") && worktrees.length > 0)
			worktrees[worktrees.length - 1]!.branch = line.slice(7);
	}
	return worktrees;
}
