// What a task's type asks of a change beyond a passing verify: which files are tests, and, for a bugfix, the proof
// that its test fails without the fix (the change's non-test files reverted in the worktree, the verify run, then
// the worktree put back as the change left it).

import { execFileSync } from "node:child_process";
import { runVerify } from "./verify-run.js";

const TEST_FILE = [
	/(^|\/)(test|tests|__tests__|spec|specs)\//,
	/\.(test|spec)\.[cm]?[jt]sx?$/,
	/(^|\/)test_[^/]*\.py$/,
	/_test\.(py|go)$/,
	/(^|\/)[^/]*Test\.(java|kt)$/,
];

export function isTestFile(path: string): boolean {
	return TEST_FILE.some((pattern) => pattern.test(path));
}

export type Proof = { proven: true } | { proven: false; reason: string };

/** Reverts the change's non-test files, runs the verify command (it must fail), and restores them. */
export async function proveBugfix(
	command: string,
	cwd: string,
	runDir: string,
	patchFile: string,
	files: string[],
): Promise<Proof> {
	const fixes = files.filter((file) => !isTestFile(file));
	if (fixes.length === 0) return { proven: false, reason: "a bugfix changed only tests: nothing was fixed" };
	const root = git(cwd, ["rev-parse", "--show-toplevel"]).trim();
	try {
		git(root, ["apply", "-R", ...fixes.map((file) => `--include=${file}`), patchFile]);
	} catch (error) {
		return { proven: false, reason: `the fix could not be taken out to test without it: ${message(error)}` };
	}
	try {
		const without = await runVerify(command, cwd, runDir, "without-fix");
		if (without.passed) {
			return {
				proven: false,
				reason: `the tests pass without the fix too (${fixes.join(", ")} reverted), so no test shows the bug; add one that fails without the fix`,
			};
		}
		return { proven: true };
	} finally {
		// The worktree's HEAD is the change as the stage left it (its snapshot): back to exactly that.
		git(root, ["reset", "-q", "--hard", "HEAD"]);
	}
}

function git(cwd: string, args: string[]): string {
	return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function message(error: unknown): string {
	const stderr = (error as { stderr?: string }).stderr;
	return (stderr || (error instanceof Error ? error.message : String(error))).trim();
}
