// Runs a task's verify command in its worktree: pass or fail by the exit code, the output kept whole in an
// artifact (`verify-<label>.log`) and bounded (its tail) in the result the loop records and shows the next plan.

import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** How much of a verify's output the result keeps: the tail, where test runners put their summary. */
export const VERIFY_OUTPUT_CHARS = 4_000;

/** The default time one verify may take. */
export const VERIFY_TIMEOUT_MS = 10 * 60_000;

export interface VerifyOutcome {
	passed: boolean;
	/** null when the command was stopped (its time was up) or could not start. */
	exitCode: number | null;
	/** The tail of stdout and stderr together, at most VERIFY_OUTPUT_CHARS. */
	output: string;
	/** The whole output, as a file of the run's artifacts. */
	log: string;
	durationMs: number;
}

export function runVerify(
	command: string,
	cwd: string,
	runDir: string,
	label: string,
	timeoutMs = VERIFY_TIMEOUT_MS,
): Promise<VerifyOutcome> {
	const startedAt = Date.now();
	const log = join(runDir, "artifacts", `verify-${label}.log`);
	return new Promise((resolve) => {
		let output = "";
		const child = spawn("sh", ["-c", command], { cwd, env: { ...process.env, CI: "1" } });
		const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
		const take = (chunk: Buffer) => {
			output += chunk.toString("utf8");
		};
		child.stdout.on("data", take);
		child.stderr.on("data", take);
		const settle = (exitCode: number | null, extra = "") => {
			clearTimeout(timer);
			const whole = `$ ${command}\n${output}${extra}`;
			mkdirSync(join(runDir, "artifacts"), { recursive: true });
			writeFileSync(log, whole);
			const tail = whole.length > VERIFY_OUTPUT_CHARS ? `...${whole.slice(-VERIFY_OUTPUT_CHARS)}` : whole;
			resolve({ passed: exitCode === 0, exitCode, output: tail, log, durationMs: Date.now() - startedAt });
		};
		child.on("error", (error) => settle(null, `\ncould not run: ${error.message}\n`));
		child.on("close", (code, signal) =>
			settle(code, signal ? `\nstopped by ${signal} after ${Math.round((Date.now() - startedAt) / 1000)} s\n` : ""),
		);
	});
}
