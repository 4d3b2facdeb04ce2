// The `/workflow` command: list (default), run, status, show, pause, resume, steer, answer, cancel, reload,
// with completion for subcommands, workflow names and run ids. UI modes answer with notifications;
// headless modes print.

import { isAbsolute, join } from "node:path";
import type { ExtensionAPI, ExtensionCommandContext } from "@mariozechner/pi-coding-agent";
import type { TProperties } from "typebox";
import { checkInputs, describeSchema } from "../authoring/validate.js";
import { findPending } from "../engine/calls/prompt-board.js";
import { parseAge, pruneRuns } from "../engine/prune.js";
import { projectStore } from "../engine/runs.js";
import type { RunReport } from "../store/report.js";
import { renderReportMarkdown } from "../store/report-markdown.js";
import { runPaths } from "../store/run-directory.js";
import { type AttachTarget, openAttachView, transcriptText } from "./attach-view.js";
import { commandOutput, type Say } from "./chat-output.js";
import { parseInputs, splitWords, takeBudget, takeFlag, takeListFlag } from "./command-args.js";
import {
	formatDryRun,
	formatPrune,
	formatRunDetails,
	formatRunHistory,
	formatRunList,
	formatRunStatus,
	formatWorkflowDescription,
	formatWorkflowList,
} from "./format.js";
import { piMode } from "./pi-mode.js";
import { answerCommand as answerCommandText, askWithDialog } from "./prompt-view.js";
import { runManager } from "./run-manager.js";
import { printHeadless, type WorkflowService } from "./workflow-service.js";

const SUBCOMMANDS = {
	list: "List the workflows (default)",
	describe: "describe <name>: what a workflow does, its inputs and outputs",
	validate: "validate <file>: load a workflow file and check its declaration, running nothing",
	run: "run <name> [--budget cost=2,tokens=500k,...] [--keep-worktrees] [--dry-run [--allow-tools[=a,b]]] [key=value ... | JSON]: start a workflow (--dry-run: walk it against a stub model, spending and writing nothing)",
	status: "status [run]: all runs, or one",
	runs: "runs: the project's past runs, newest first, with outcome, duration and cost",
	prune: "prune --older-than 30d [--resumable]: remove old runs (never one in flight; resumable ones only when asked)",
	show: "show <run>: stages, models, durations, cost and the graph",
	pause: "pause <run>: no new stages; running ones are interrupted and resume later",
	resume:
		"resume <run> [--budget ...] [--keep-worktrees] [message]: continue a paused, interrupted or blocked run; finished stages are not run again",
	steer: "steer <run> <stage> <message>: tell a running stage something before its next model call",
	attach: "attach <run> [stage]: the stage's transcript, live while it runs, with a line to steer it (Esc returns)",
	answer: "answer <run> [prompt] [value]: answer a question of a run (no value: open the dialog)",
	cancel: "cancel <run>: stop a run for good",
	reload: "Rescan workflow files",
} as const;

type Subcommand = keyof typeof SUBCOMMANDS;

/** Subcommands whose first argument is a run id. */
const RUN_SUBCOMMANDS = new Set(["status", "show", "pause", "resume", "steer", "answer", "cancel", "attach"]);

export function registerWorkflowCommand(pi: ExtensionAPI, service: WorkflowService, lastCwd: () => string): void {
	pi.registerCommand("workflow", {
		description:
			"Run and watch workflows: list, describe, run, status, show, pause, resume, steer, answer, cancel, reload",
		getArgumentCompletions: (prefix) => completions(prefix, service, lastCwd()),
		handler: async (args, ctx) => {
			const say = commandOutput(pi, `/workflow ${args.trim()}`.trim(), printHeadless);
			try {
				await handle(args, ctx, service, say);
			} catch (error) {
				say(ctx, error instanceof Error ? error.message : String(error), "error");
			}
		},
	});
}

async function handle(args: string, ctx: ExtensionCommandContext, service: WorkflowService, say: Say): Promise<void> {
	const trimmed = args.trim();
	const [first = "list"] = splitWords(trimmed);
	const rest = trimmed.slice(trimmed.indexOf(first) + first.length).trim();
	if (!(first in SUBCOMMANDS)) {
		throw new Error(`Unknown subcommand "${first}": expected one of ${Object.keys(SUBCOMMANDS).join(", ")}`);
	}
	switch (first as Subcommand) {
		case "list":
			return say(ctx, formatWorkflowList((await service.catalog(ctx.cwd)).list()));
		case "reload": {
			const catalog = await service.reload(ctx.cwd);
			return say(ctx, `Reloaded: ${catalog.list().length} workflow files.\n${formatWorkflowList(catalog.list())}`);
		}
		case "validate": {
			const [given] = splitWords(rest);
			if (!given) throw new Error("validate needs a file: /workflow validate <file.ts>");
			const { file, definition } = await service.validateFile(given, ctx);
			const inputs = Object.keys(definition.inputs).length;
			const outputs = Object.keys(definition.outputs).length;
			return say(
				ctx,
				`${file}: valid workflow "${definition.name}" (${inputs} ${inputs === 1 ? "input" : "inputs"}, ${outputs} ${outputs === 1 ? "output" : "outputs"}).\n\n${formatWorkflowDescription(definition)}`,
			);
		}
		case "describe": {
			const [name] = splitWords(rest);
			if (!name) throw new Error("describe needs a workflow name: /workflow describe <name>");
			const { definition } = await service.resolveEntry(name, ctx);
			const scope = (await service.catalog(ctx.cwd)).find(name)?.scope;
			return say(ctx, formatWorkflowDescription(definition, scope));
		}
		case "run":
			return runCommand(rest, ctx, service, say);
		case "status": {
			if (rest)
				return say(
					ctx,
					formatRunStatus(runManager().report(ctx.cwd, runManager().resolve(ctx.cwd, rest)), ctx.cwd),
				);
			return say(ctx, formatRunList(runManager().listings(ctx.cwd)));
		}
		case "runs":
			return say(ctx, formatRunHistory(runManager().listings(ctx.cwd)));
		case "prune": {
			const resumable = takeFlag(rest, "--resumable");
			const match = /^--older-than(?:=|\s+)(\S+)$/.exec(resumable.rest.trim());
			if (!match)
				throw new Error(`prune needs --older-than <age>, like /workflow prune --older-than 30d; got "${rest}"`);
			const age = parseAge(match[1] as string);
			if (!age.ok) throw new Error(`prune: ${age.error}; nothing was removed.`);
			const pruned = pruneRuns(projectStore(ctx.cwd), { olderThanMs: age.ms, resumable: resumable.present });
			return say(ctx, formatPrune(pruned, match[1] as string));
		}
		case "show": {
			if (!rest) throw new Error("show needs a run id (or a unique prefix)");
			const shown = runManager().report(ctx.cwd, runManager().resolve(ctx.cwd, rest));
			// The TUI shows the receipt itself (report.md, the graph as text); other modes get the bounded text.
			return say(ctx, formatRunDetails(shown, ctx.cwd), "info", renderReportMarkdown(shown, { graph: "text" }));
		}
		case "pause":
		case "cancel": {
			if (!rest) throw new Error(`${first} needs a run id (or a unique prefix)`);
			const runId = runManager().resolve(ctx.cwd, rest);
			const type = first === "pause" ? "pause" : "cancel";
			const reason = type === "pause" ? "paused by the user" : "cancelled by the user";
			return say(ctx, await service.control(runId, { type, reason }, ctx));
		}
		case "steer": {
			const [run, stage] = splitWords(rest);
			const message =
				run && stage ? rest.slice(rest.indexOf(stage, rest.indexOf(run) + run.length) + stage.length).trim() : "";
			if (!run || !stage || !message)
				throw new Error("steer needs a run, a stage and a message: /workflow steer <run> <stage> <message>");
			const runId = runManager().resolve(ctx.cwd, run);
			return say(ctx, await service.control(runId, { type: "steer", stageId: stage, message }, ctx));
		}
		case "answer":
			return answerCommand(rest, ctx, service, say);
		case "attach": {
			const [run, stage] = splitWords(rest);
			if (!run) throw new Error("attach needs a run id (or a unique prefix): /workflow attach <run> [stage]");
			const runId = runManager().resolve(ctx.cwd, run);
			const target = attachTarget(runManager().report(ctx.cwd, runId), stage, ctx.cwd, (message, stageId) =>
				service.control(runId, { type: "steer", stageId, message }, ctx),
			);
			if (ctx.hasUI && piMode(true) === "interactive") return openAttachView(ctx, target);
			return say(ctx, transcriptText(target));
		}
		case "resume": {
			const keep = takeFlag(rest, "--keep-worktrees");
			const taken = takeBudget(keep.rest);
			if (!taken.ok) throw new Error(`resume: ${taken.error}; nothing was resumed.`);
			const [run] = splitWords(taken.rest);
			if (!run)
				throw new Error(
					"resume needs a run id (or a unique prefix): /workflow resume <run> [--budget ...] [message]",
				);
			const runId = runManager().resolve(ctx.cwd, run);
			const message = taken.rest.slice(taken.rest.indexOf(run) + run.length).trim() || undefined;
			await service.resume(runId, message, ctx, "user", {
				...(taken.budget ? { budget: taken.budget } : {}),
				...(keep.present ? { keepWorktrees: true } : {}),
			});
			if (ctx.hasUI) say(ctx, `Resumed run ${runId}.`);
			return;
		}
	}
}

/** The stage to attach to: the one named, else the stage running now, else the last one with a transcript. */
function attachTarget(
	report: RunReport,
	stage: string | undefined,
	cwd: string,
	steer: (message: string, stageId: string) => Promise<string>,
): AttachTarget {
	const withTranscript = report.stages.filter((candidate) => candidate.sessionFile);
	const chosen = stage
		? withTranscript.find((candidate) => candidate.id === stage)
		: (withTranscript.find((candidate) => candidate.status === "running" && candidate.kind === "task") ??
			withTranscript.at(-1));
	if (!chosen?.sessionFile) {
		const known = withTranscript.map((candidate) => candidate.id).join(", ") || "none yet";
		throw new Error(
			stage
				? `Run ${report.runId} has no stage "${stage}" with a transcript (stages with one: ${known})`
				: `Run ${report.runId} has no stage with a transcript yet`,
		);
	}
	const runDir = runPaths(cwd, report.runId).runDir;
	return {
		runId: report.runId,
		stageId: chosen.id,
		sessionFile: isAbsolute(chosen.sessionFile) ? chosen.sessionFile : join(runDir, chosen.sessionFile),
		running: chosen.status === "running",
		...(chosen.prompt ? { prompt: chosen.prompt } : {}),
		steer: (message) => steer(message, chosen.id),
	};
}

/** `/workflow answer <run> [prompt] [value]`: without a value, UI modes open the question's dialog. */
async function answerCommand(
	rest: string,
	ctx: ExtensionCommandContext,
	service: WorkflowService,
	say: Say,
): Promise<void> {
	const [run] = splitWords(rest);
	if (!run) throw new Error("answer needs a run id (or a unique prefix): /workflow answer <run> [prompt] <value>");
	const runId = runManager().resolve(ctx.cwd, run);
	const pending = service.pendingPrompts(runId, ctx);
	let value = rest.slice(rest.indexOf(run) + run.length).trim();
	const [first] = splitWords(value);
	let promptId: string | undefined;
	if (first && pending.some((prompt) => prompt.id === first)) {
		promptId = first;
		value = value.slice(value.indexOf(first) + first.length).trim();
	} else if (first && PROMPT_ID.test(first) && value.trim() !== first) {
		// Looks like a prompt id but none waits under it: refuse, rather than take it as part of the answer.
		findPending(runId, pending, first);
	}
	let answer: unknown = unquote(value);
	if (value === "") {
		const prompt = findPending(runId, pending, promptId);
		if (!ctx.hasUI)
			throw new Error(`answer needs a value for prompt "${prompt.id}": ${answerCommandText(runId, prompt)}`);
		answer = await askWithDialog(ctx.ui, runId, prompt);
		if (answer === undefined) return say(ctx, `No answer given; run ${runId} still waits.`);
		promptId = prompt.id;
	}
	await service.answer(runId, promptId, answer, ctx, "user", (message) => say(ctx, message));
}

/** The shape of prompt ids: the kind, then `-2`, `-3` for later ones. */
const PROMPT_ID = /^(input|confirm|select|editor)(-\d+)?$/;

function unquote(text: string): string {
	const quoted = /^"(.*)"$/s.exec(text) ?? /^'(.*)'$/s.exec(text);
	return quoted ? (quoted[1] as string) : text;
}

async function runCommand(
	args: string,
	ctx: ExtensionCommandContext,
	service: WorkflowService,
	say: Say,
): Promise<void> {
	const dry = takeFlag(args, "--dry-run");
	const allow = takeListFlag(dry.rest, "--allow-tools");
	const keep = takeFlag(allow.rest, "--keep-worktrees");
	const taken = takeBudget(keep.rest);
	const [name] = splitWords(taken.ok ? taken.rest : keep.rest);
	if (!name) throw new Error("run needs a workflow name: /workflow run <name> [--budget ...] [key=value ... | JSON]");
	if (!taken.ok) throw new Error(`Workflow "${name}": ${taken.error}; nothing was started.`);
	const rest = taken.rest;
	const { definition, file } = await service.resolveEntry(name, ctx);
	const parsed = parseInputs(rest.slice(rest.indexOf(name) + name.length), definition.inputs);
	if (!parsed.ok) throw new Error(`Workflow "${name}": ${parsed.error}; nothing was started.`);
	const inputs = parsed.inputs;
	// A misspelled key is refused before anyone is asked for the input it was meant to give.
	const unknown = checkInputs(definition.inputs, inputs).filter((problem) => problem.startsWith("unknown input"));
	if (unknown.length > 0) throw new Error(`Workflow "${name}": invalid inputs:\n- ${unknown.join("\n- ")}`);
	if (dry.present) {
		// Nobody is asked for a missing input: a dry run checks the command as given (and runs in CI).
		const result = await service.dryRun(definition, inputs, ctx, allow.present ? (allow.values ?? true) : false);
		say(ctx, formatDryRun(name, result));
		if (!ctx.hasUI && result.report.status !== "completed") process.exitCode = 1;
		return;
	}
	if (ctx.hasUI) {
		// Ask for missing required inputs instead of failing.
		for (const [key, schema] of Object.entries(definition.inputs as TProperties)) {
			if (inputs[key] !== undefined || (schema as { "~optional"?: boolean })["~optional"]) continue;
			// The description is part of the title: a placeholder is gone once typing starts.
			const description = (schema as { description?: string }).description;
			const answer = await ctx.ui.input(
				`Workflow "${name}": input "${key}" (${description ? `${description}; ` : ""}${describeSchema(schema)})`,
				describeSchema(schema),
			);
			if (answer === undefined)
				throw new Error(`Workflow "${name}": no value for input "${key}"; nothing was started.`);
			const inputParse = parseInputs(`${key}=${JSON.stringify(answer)}`, definition.inputs);
			inputs[key] = inputParse.ok ? inputParse.inputs[key] : answer;
		}
	}
	const problems = checkInputs(definition.inputs, inputs);
	if (problems.length > 0) throw new Error(`Workflow "${name}": invalid inputs:\n- ${problems.join("\n- ")}`);
	const { managed } = await service.start(definition, inputs, ctx, "user", {
		workflowFile: file,
		...(taken.budget ? { budget: taken.budget } : {}),
		...(keep.present ? { keepWorktrees: true } : {}),
	});
	if (ctx.hasUI) say(ctx, `Started workflow "${name}" as run ${managed.run.runId}.`);
}

/** Completions for the text typed after `/workflow `: subcommands, workflow names, run ids (newest first, each with
 * its workflow, status and age). What is typed in full gets no popup, so Enter runs it rather than accepting it. */
export function completions(
	prefix: string,
	service: Pick<WorkflowService, "cachedNames">,
	cwd: string,
	runs: () => ReadonlyArray<{ runId: string; description: string }> = () => runManager().runChoices(cwd),
) {
	const words = prefix.split(/\s+/);
	if (words.length <= 1) {
		const typed = words[0] ?? "";
		const items = Object.entries(SUBCOMMANDS)
			.filter(([name]) => name.startsWith(typed))
			.map(([name, description]) => ({ value: name, label: name, description }));
		return offered(items, typed);
	}
	const [sub = "", partial = ""] = words;
	if (words.length !== 2) return null;
	if (sub === "run" || sub === "describe") {
		const items = service
			.cachedNames(cwd)
			.filter((name) => name.startsWith(partial))
			.map((name) => ({ value: `${sub} ${name}`, label: name }));
		return offered(items, `${sub} ${partial}`);
	}
	if (!RUN_SUBCOMMANDS.has(sub)) return null;
	// `status` alone lists every run: an id is offered once one is being typed, so Enter on `status ` runs it.
	if (sub === "status" && partial === "") return null;
	const items = runs()
		.filter((choice) => choice.runId.startsWith(partial))
		.map((choice) => ({ value: `${sub} ${choice.runId}`, label: choice.runId, description: choice.description }));
	return offered(items, `${sub} ${partial}`);
}

/** The popup's items, or none when there are none or the only one is what is typed already. */
function offered<T extends { value: string }>(items: T[], typed: string): T[] | null {
	if (items.length === 0) return null;
	if (items.length === 1 && items[0]?.value === typed) return null;
	return items;
}
