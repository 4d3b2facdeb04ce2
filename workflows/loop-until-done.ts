// Builtin: the Ralph loop. The same prompt runs again and again, each time in a fresh context (one `work` stage per
// iteration), and the only thing an iteration hands the next is a progress file it reads and updates. The loop
// ends when a completion check passes: the given `check` command's exit code, or, without one, the stage's own
// structured verdict. It stops blocked at the iteration limit, or when neither the progress file nor the check's
// output changes ("no progress").
// NOTE: a stage's fingerprint hashes the files it reads, so iteration n reads a copy of progress.md as iteration
// n-1 left it (`progress-after-<n-1>.md`, written once, by a recorded call) and never the living file, which later
// iterations change: a resume then replays the finished iterations instead of running them again.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { workflow } from "pi-workflows";
import { Type } from "typebox";
import { verifyCommandProblem } from "./lib/verify-command.js";
import { runVerify, type VerifyOutcome } from "./lib/verify-run.js";

const Verdict = Type.Object({
	done: Type.Boolean({ description: "true only when the whole job is done, not just this iteration's part" }),
	evidence: Type.String({ description: "What shows it: files, command output, what is left when not done" }),
});

/** What a recorded look at the progress file keeps: its content and a hash of it. */
interface ProgressState {
	content: string;
	hash: string;
}

export default workflow({
	name: "loop-until-done",
	description:
		"Run the same prompt in a fresh context each iteration, with progress kept in a file, until a check passes or the stage says done",
	inputs: {
		prompt: Type.String({ minLength: 1, description: "What to do; every iteration gets the same prompt" }),
		check: Type.Optional(
			Type.String({
				description: "Command that proves the job done by exit code 0 (without it, the stage submits a verdict)",
			}),
		),
		maxIterations: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: "Default 10" })),
	},
	outputs: {
		done: Type.Boolean(),
		iterations: Type.Integer(),
		progress: Type.String({ description: "The progress file's final content" }),
		evidence: Type.String({ description: "The check's output tail, or the verdict's evidence" }),
	},
	budget: { maxTurns: 200, maxDurationMs: 60 * 60_000 },
	run: async (ctx) => {
		const maxIterations = ctx.inputs.maxIterations ?? 10;
		const prompt = ctx.inputs.prompt.trim();
		if (prompt === "")
			return ctx.exit({ status: "failed", reason: "prompt: expected what to do, got an empty text" });
		const command = ctx.inputs.check;
		if (command !== undefined) {
			const checked = await ctx.tool("check-command", { command }, () => ({
				problem: verifyCommandProblem(command, ctx.cwd) ?? null,
			}));
			if (checked.problem) return ctx.exit({ status: "failed", reason: `check: ${checked.problem}` });
		}

		const artifacts = join(ctx.runDir, "artifacts");
		const progressFile = join(artifacts, "progress.md");
		await ctx.tool(
			"progress-file",
			{ file: "progress.md" },
			() => {
				mkdirSync(artifacts, { recursive: true });
				if (!existsSync(progressFile)) writeFileSync(progressFile, "");
				return { path: progressFile };
			},
			{ idempotent: true },
		);

		let progress: ProgressState = { content: "", hash: hashOf("") };
		let evidence = "";
		let last: VerifyOutcome | undefined;
		for (let iteration = 1; iteration <= maxIterations; iteration++) {
			const snapshot = join(artifacts, `progress-after-${iteration - 1}.md`);
			const hasNotes = iteration > 1 && progress.content.trim() !== "";
			const stage = {
				prompt: workPrompt({ prompt, iteration, maxIterations, progressFile, hasNotes, command, cwd: ctx.cwd }),
				...(hasNotes ? { reads: [snapshot] } : {}),
			};
			let done: boolean;
			if (command !== undefined) {
				await ctx.task("work", stage);
				// NOTE: a completion check asks, it does not change anything, so an interrupted one simply runs again.
				last = await ctx.tool(
					"check",
					{ command, iteration },
					() => runVerify(command, ctx.cwd, ctx.runDir, String(iteration)),
					{ idempotent: true },
				);
				done = last.passed;
				evidence = last.output;
			} else {
				const result = await ctx.task("work", { ...stage, schema: Verdict });
				done = result.structured.done;
				evidence = result.structured.evidence;
			}
			progress = await ctx.tool("progress", { iteration }, () => keepProgress(progressFile, artifacts, iteration), {
				idempotent: true,
			});
			if (done) return { done: true, iterations: iteration, progress: progress.content, evidence };
			// The same notes and the same check output again: the loop is not getting anywhere.
			ctx.progress(`${progress.hash}\n${last?.output ?? ""}`, { limit: 3 });
		}
		const why =
			command !== undefined
				? `"${command}" still fails (exit ${last?.exitCode ?? "none"})`
				: `the last verdict was not done: ${firstLine(evidence)}`;
		return ctx.exit({
			status: "blocked",
			reason: `not done after ${maxIterations} iteration${maxIterations === 1 ? "" : "s"}: ${why}`,
			outputs: { done: false, iterations: maxIterations, progress: progress.content, evidence },
		});
	},
});

interface WorkPromptParts {
	prompt: string;
	iteration: number;
	maxIterations: number;
	progressFile: string;
	hasNotes: boolean;
	command: string | undefined;
	cwd: string;
}

/** The stage's prompt: the user's, then how the loop works, where the notes are and what counts as done. */
function workPrompt(parts: WorkPromptParts): string {
	const notes = parts.hasNotes
		? "The file to read below is a copy of it as the last iteration left it: read it first and carry on from there."
		: "It is empty: nothing has been done yet.";
	const done =
		parts.command !== undefined
			? `The job is done when this command exits 0 in ${parts.cwd}: ${parts.command}`
			: "When you stop, submit your verdict: done true only when the whole job is done, with the evidence; otherwise done false, with what is left.";
	return [
		parts.prompt,
		`This is iteration ${parts.iteration} of at most ${parts.maxIterations} of a loop that runs this same prompt, each time in a fresh context. Nothing of earlier iterations reaches you but the progress file, ${parts.progressFile}. ${notes}`,
		`Before you stop, update ${parts.progressFile} with your write or edit tools: what you did, what you learned, and what is left, so the next iteration can pick up where you stop.`,
		done,
	].join("\n\n");
}

/** Reads the progress file as an iteration left it, and keeps a copy of it for the next iteration to read. */
function keepProgress(progressFile: string, artifacts: string, iteration: number): ProgressState {
	const content = existsSync(progressFile) ? readFileSync(progressFile, "utf8") : "";
	writeFileSync(join(artifacts, `progress-after-${iteration}.md`), content);
	return { content, hash: hashOf(content) };
}

function hashOf(text: string): string {
	return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

function firstLine(text: string): string {
	return (text.split("\n").find((line) => line.trim() !== "") ?? "").trim().slice(0, 200);
}
