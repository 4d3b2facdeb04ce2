// Plain-text views shared by the command, the tool and the widget: workflow lists, run lines,
// run details with the stage graph, and the one-line summary printed in headless modes.

import type { TProperties, TSchema } from "typebox";
import type { AnyWorkflowDefinition } from "../authoring/types.js";
import { describeSchema } from "../authoring/validate.js";
import type { DryRunResult } from "../engine/dry-run.js";
import { answerHint } from "../engine/prompt-answer.js";
import { RESUMES } from "../engine/runs.js";
import type { PromptKind } from "../store/events.js";
import { renderGraph } from "../store/graph-text.js";
import type { RunReport } from "../store/report.js";
import { formatCost, formatDuration, stageGraphNodes } from "../store/report-markdown.js";
import { runPaths } from "../store/run-directory.js";
import type { CatalogEntry } from "./catalog.js";

export function formatWorkflowList(entries: readonly CatalogEntry[]): string {
	if (entries.length === 0) return "No workflows found.";
	const lines = entries.map((entry) => {
		// An error of several lines (a definition's problems) is indented under its entry.
		if (entry.error)
			return `  ${entry.name}  [${entry.scope}] ERROR ${entry.error.replaceAll("\n", "\n      ")} (${entry.file})`;
		const description = entry.description ?? (entry.scope === "project" ? "(project file, loads when used)" : "");
		return `  ${entry.name}  [${entry.scope}] ${description}`;
	});
	return `Workflows:\n${lines.join("\n")}`;
}

/** A workflow's declaration for a person: what it does, where it comes from, each input and output with its type,
 * whether it is required and its description, and an example command. */
export function formatWorkflowDescription(definition: AnyWorkflowDefinition, scope?: string): string {
	const lines = [`${definition.name}: ${definition.description}`];
	if (definition.file) lines.push(`file: ${definition.file}${scope ? ` [${scope}]` : ""}`);
	const field = ([key, schema]: [string, TSchema]) => {
		const optional = (schema as { "~optional"?: boolean })["~optional"] === true;
		const description = (schema as { description?: string }).description;
		return `  ${key}  ${describeSchema(schema)}${optional ? " (optional)" : " (required)"}${description ? `  ${description}` : ""}`;
	};
	const inputs = Object.entries(definition.inputs as TProperties);
	lines.push("", inputs.length > 0 ? "inputs:" : "inputs: none", ...inputs.map(field));
	const outputs = Object.entries(definition.outputs as TProperties);
	lines.push("", outputs.length > 0 ? "outputs:" : "outputs: none", ...outputs.map(field));
	const required = inputs.filter(([, schema]) => (schema as { "~optional"?: boolean })["~optional"] !== true);
	const example = required.map(([key]) => `${key}=...`).join(" ");
	lines.push("", `run it: /workflow run ${definition.name}${example ? ` ${example}` : ""}`);
	return lines.join("\n");
}

export function formatRunLine(report: RunReport): string {
	const duration = report.durationMs === undefined ? "" : ` ${formatDuration(report.durationMs)}`;
	const warnings = report.warnings.length > 0 ? `  ${plural(report.warnings.length, "warning")}` : "";
	// Worktrees kept on disk are said where they are, so nobody has to look for them.
	const kept = (report.worktrees ?? []).map(
		(entry) => `\n  worktree of ${entry.node}: ${entry.root} (branch ${entry.branch})`,
	);
	return `${report.runId}  ${report.workflow}  ${report.status}  ${plural(report.stages.length, "stage")}  ${formatCost(report.usage.cost)}${duration}  started ${report.startedAt}${warnings}${kept.join("")}`;
}

/** A run's line and, when it did not simply complete, why (`status <run>`). */
export function formatRunStatus(report: RunReport, cwd: string): string {
	const why = report.reason ?? (report.status === "failed" ? report.errors[0] : undefined);
	if (!why) return formatRunLine(report);
	return `${formatRunLine(report)}\n  reason: ${bounded(why, LIMITS.item, runPaths(cwd, report.runId).reportJson)}`;
}

/** One line per run for `status`; a run that cannot be read says why. */
export function formatRunList(
	listings: ReadonlyArray<{ runId: string; report: RunReport } | { runId: string; error: string }>,
): string {
	if (listings.length === 0) return "No workflow runs yet.";
	return listings
		.map((listing) =>
			"report" in listing ? formatRunLine(listing.report) : `${listing.runId}  ERROR ${listing.error}`,
		)
		.join("\n");
}

/** `/workflow runs`: one aligned line per run, newest first: id, workflow, outcome, duration, cost, start, reason. */
export function formatRunHistory(
	listings: ReadonlyArray<{ runId: string; report: RunReport } | { runId: string; error: string }>,
): string {
	if (listings.length === 0) return "No workflow runs yet.";
	const rows = listings.map((listing) => {
		if (!("report" in listing)) return [listing.runId, "?", "unreadable", "", "", "", listing.error];
		const { report } = listing;
		const duration = report.durationMs ?? report.budget?.spent.durationMs;
		return [
			report.runId,
			report.workflow,
			report.status,
			duration === undefined ? "-" : formatDuration(duration),
			formatCost(report.usage.cost),
			report.startedAt.replace("T", " ").slice(0, 16),
			report.reason ? bounded(report.reason, 80, "its report") : "",
		];
	});
	const header = ["run", "workflow", "outcome", "duration", "cost", "started", "why"];
	const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => (row[column] ?? "").length)));
	return [header, ...rows]
		.map((row) =>
			row
				.map((value, column) =>
					column === 3 || column === 4 ? value.padStart(widths[column] ?? 0) : value.padEnd(widths[column] ?? 0),
				)
				.join("  ")
				.trimEnd(),
		)
		.join("\n");
}

/** What a dry run found: the outcome, stages and models, the graph, and what it held back. */
export function formatDryRun(name: string, result: DryRunResult): string {
	const { report } = result;
	const models = result.models.map((entry) => `${entry.model} (${entry.stages})`).join(", ") || "none";
	const lines = [
		`Dry run of "${name}": ${report.status}; ${plural(result.stages, "stage")} on ${models}. Nothing was spent, and nothing of the project was written.`,
	];
	const why = report.reason ?? report.errors[0];
	if (report.status !== "completed" && why) lines.push(`why: ${why}`);
	if (result.graph.length > 0) lines.push("", "graph:", ...result.graph.map((line) => `  ${line}`));
	if (result.heldBack.length > 0) {
		lines.push("", "held back:", ...result.heldBack.map((entry) => `  ${entry.replace(/^dry run: /, "")}`));
		if (report.status !== "completed" && result.heldBack.some((entry) => entry.includes("ctx.tool")))
			lines.push("  (a tool call returned null here; --allow-tools=<name> runs it)");
	}
	return lines.join("\n");
}

/** What a prune removed and what it kept, with why. */
export function formatPrune(
	result: { removed: string[]; kept: Array<{ runId: string; why: string }> },
	age: string,
): string {
	const lines = [
		result.removed.length > 0
			? `Removed ${plural(result.removed.length, "run")} older than ${age}: ${result.removed.join(", ")}.`
			: `No run older than ${age} to remove.`,
	];
	if (result.kept.length > 0)
		lines.push(
			`Kept ${plural(result.kept.length, "run")}:`,
			...result.kept.map((entry) => `  ${entry.runId}: ${entry.why}`),
		);
	return lines.join("\n");
}

/** Bounds on what a view of one run says (status, show, the completion message): they reach the model's
 * context, so long outputs, many stages or errors are cut, and the cut says where the whole is. */
const LIMITS = { stages: 50, graphLines: 40, text: 2_000, item: 500, items: 10 };

/** Spend against each limit the run has, e.g. `stages 3/200  tokens 12.0k/500k  cost $0.0100/$2.0000`. */
export function formatBudget(budget: RunReport["budget"]): string | undefined {
	if (!budget) return undefined;
	const { limits, spent } = budget;
	const parts: string[] = [];
	const count = (value: number) => (value >= 10_000 ? `${(value / 1000).toFixed(1)}k` : String(value));
	if (limits.maxStages !== undefined) parts.push(`stages ${spent.stages}/${limits.maxStages}`);
	if (limits.maxTurns !== undefined) parts.push(`turns ${spent.turns}/${limits.maxTurns}`);
	if (limits.maxToolCalls !== undefined) parts.push(`tool calls ${spent.toolCalls}/${limits.maxToolCalls}`);
	if (limits.maxTokens !== undefined) parts.push(`tokens ${count(spent.tokens)}/${count(limits.maxTokens)}`);
	if (limits.maxCostUsd !== undefined)
		parts.push(`cost ${formatCost(spent.costUsd)}/${formatCost(limits.maxCostUsd)}`);
	if (limits.maxDurationMs !== undefined) {
		parts.push(`time ${formatDuration(spent.durationMs)}/${formatDuration(limits.maxDurationMs)}`);
	}
	return parts.length > 0 ? `budget: ${parts.join("  ")}` : undefined;
}

export function formatRunDetails(report: RunReport, cwd: string): string {
	const reportPath = runPaths(cwd, report.runId).reportJson;
	const lines = [formatRunLine(report)];
	if (report.reason) lines.push(`reason: ${bounded(report.reason, LIMITS.item, reportPath)}`);
	if (report.stopping)
		lines.push(
			`stopping: ${report.stopping.mode} accepted (${bounded(report.stopping.reason, LIMITS.item, reportPath)})`,
		);
	const budget = formatBudget(report.budget);
	if (budget) lines.push(budget);
	lines.push("", "stages:");
	// Columns line up: id, status, model, duration, tokens, cost; what a stage adds (change, error) follows.
	const rows = report.stages.slice(0, LIMITS.stages).map((stage) => {
		const duration = stage.durationMs === undefined ? "-" : formatDuration(stage.durationMs);
		const error = stage.error ? `  error: ${bounded(stage.error, LIMITS.item, reportPath)}` : "";
		const change = !stage.change
			? ""
			: stage.change.files === 0
				? "  change: none"
				: `  change: ${plural(stage.change.files, "file")} +${stage.change.insertions} -${stage.change.deletions} (${stage.change.patch})`;
		const cells = [
			stage.id,
			`${stage.status}${stage.replayed ? " (replayed)" : ""}`,
			stage.model ?? (stage.kind === "task" ? "-" : stage.kind),
			duration,
			`${stage.usage.totalTokens} tokens`,
			formatCost(stage.usage.cost),
		];
		// The models a stage moved on from, or skipped, before the one shown.
		const tried = stage.attempts.filter((attempt) => !attempt.ok && attempt.model && attempt.model !== stage.model);
		const attempts = tried.slice(0, LIMITS.items).map((attempt) => {
			const what = attempt.skipped ? "skipped" : (attempt.kind ?? "failed");
			return `    ${attempt.model}: ${what}${attempt.error ? `: ${bounded(attempt.error, LIMITS.item, reportPath)}` : ""}`;
		});
		return { cells, tail: `${change}${error}${stage.rerun ? `  rerun: ${stage.rerun}` : ""}`, attempts };
	});
	const widths = rows.reduce<number[]>(
		(max, row) => row.cells.map((cell, index) => Math.max(max[index] ?? 0, cell.length)),
		[],
	);
	for (const row of rows) {
		const padded = row.cells.map((cell, index) =>
			// Numbers are right-aligned, words left-aligned; the last column needs no padding.
			index >= 3 ? cell.padStart(widths[index] ?? 0) : cell.padEnd(widths[index] ?? 0),
		);
		lines.push(`  ${padded.join("  ")}${row.tail}`, ...row.attempts);
	}
	const hidden = report.stages.length - LIMITS.stages;
	if (hidden > 0) lines.push(`  ... ${plural(hidden, "more stage")}: see ${reportPath}`);
	// The graph collapses its finished groups, so even a large run draws in a screenful.
	if (report.stages.length > 0) {
		const graph = renderGraph(stageGraphNodes(report.stages));
		const more = graph.length - LIMITS.graphLines;
		lines.push("", "graph:", ...graph.slice(0, LIMITS.graphLines).map((line) => `  ${line}`));
		if (more > 0) lines.push(`  ... ${plural(more, "more line")}: see ${reportPath.replace(/json$/, "md")}`);
	}
	if (report.worktrees) {
		lines.push(
			"",
			"worktrees (kept):",
			...report.worktrees.map((entry) => `  ${entry.node}: ${entry.root} (branch ${entry.branch})`),
		);
	}
	const queued = (report.queued ?? []).map((entry) => `${entry.stage}: ${entry.messages.join(" | ")}`);
	lines.push(...listed("messages queued for stages not started", queued, reportPath));
	const lost = (report.undeliverable ?? []).map((entry) => `${entry.reason}: ${entry.messages.join(" | ")}`);
	lines.push(...listed("undeliverable messages", lost, reportPath));
	if (report.outputs) lines.push("", `outputs: ${bounded(JSON.stringify(report.outputs), LIMITS.text, reportPath)}`);
	lines.push(...listed("errors", report.errors, reportPath), ...listed("warnings", report.warnings, reportPath));
	const waiting = report.prompts.filter((prompt) => prompt.answer === undefined);
	if (waiting.length > 0) {
		lines.push(
			"",
			"waiting for answers:",
			...waiting.map(
				(prompt) => `  ${prompt.id} (${prompt.kind}): ${bounded(prompt.message, LIMITS.item, reportPath)}`,
			),
		);
	}
	lines.push("", `report: ${runPaths(cwd, report.runId).reportMd} (and report.json beside it)`);
	return lines.join("\n");
}

function listed(title: string, items: readonly string[], reportPath: string): string[] {
	if (items.length === 0) return [];
	const shown = items.slice(0, LIMITS.items).map((item) => `  ${bounded(item, LIMITS.item, reportPath)}`);
	const more = items.length - LIMITS.items;
	return ["", `${title}:`, ...shown, ...(more > 0 ? [`  ... ${more} more: see ${reportPath}`] : [])];
}

/** The text, or its first `max` characters and where the rest is. */
export function bounded(text: string, max: number, whole: string): string {
	if (text.length <= max) return text;
	return `${text.slice(0, max)}... [${text.length - max} more characters in ${whole}]`;
}

/** The one line headless modes print when a run stops: run id, status, report path. */
export function summaryLine(report: RunReport, cwd: string): string {
	return `workflow run ${report.runId} ${report.status} ${runPaths(cwd, report.runId).reportJson}`;
}

/**
 * What headless modes print when a run stops: the summary line, then why (the reason, or the first error of a
 * failed run), the outputs of a finished one, and the next command: answering its questions, or resuming it.
 * `flags` go into those commands (`--trust-workflows` for a project workflow, which the next process needs too).
 */
export function headlessLines(report: RunReport, cwd: string, flags = ""): string[] {
	const reportPath = runPaths(cwd, report.runId).reportJson;
	const lines = [summaryLine(report, cwd)];
	// A run waiting at questions says which, below; any other stop says why.
	const why = report.reason ?? (report.status === "failed" ? report.errors[0] : undefined);
	if (why && report.status !== "awaiting_input") lines.push(`reason: ${bounded(why, LIMITS.item, reportPath)}`);
	if (report.outputs && Object.keys(report.outputs).length > 0)
		lines.push(`outputs: ${bounded(JSON.stringify(report.outputs), LIMITS.text, reportPath)}`);
	const pi = flags ? `pi ${flags} -p` : "pi -p";
	if (report.status === "awaiting_input") {
		for (const prompt of report.prompts.filter((entry) => entry.answer === undefined)) {
			const hint = answerHint({ kind: prompt.kind as PromptKind, message: prompt.message, options: prompt.options });
			lines.push(
				`prompt ${prompt.id} (${prompt.kind}): ${prompt.message}`,
				`answer: ${pi} "/workflow answer ${report.runId} ${prompt.id} <${hint}>"`,
			);
		}
	} else if (RESUMES.has(report.status)) {
		lines.push(`resume: ${pi} "/workflow resume ${report.runId}"`);
	}
	return lines;
}

/** What the chat (and the model) is told when a run ends; bounded like the details (see LIMITS). */
export function completionText(report: RunReport, cwd: string): string {
	const reportPath = runPaths(cwd, report.runId).reportJson;
	const lines = [`Workflow "${report.workflow}" run ${report.runId} ${report.status}.`];
	if (report.outputs)
		lines.push(`Outputs: ${bounded(JSON.stringify(report.outputs, null, 2), LIMITS.text, reportPath)}`);
	if (report.reason) lines.push(`Reason: ${bounded(report.reason, LIMITS.item, reportPath)}`);
	// A stop's reason is also the run's error (`Workflow "x": <reason>`): said once.
	const reason = report.reason;
	const errors = reason ? report.errors.filter((error) => !error.endsWith(`: ${reason}`)) : report.errors;
	if (errors.length > 0) {
		const shown = errors.slice(0, LIMITS.items).map((error) => `- ${bounded(error, LIMITS.item, reportPath)}`);
		const more = errors.length - LIMITS.items;
		lines.push(`Errors:\n${shown.join("\n")}${more > 0 ? `\n- ... ${more} more: see the report` : ""}`);
	}
	// The page a person reads; report.json (beside it) is for programs.
	lines.push(`Report: ${runPaths(cwd, report.runId).reportMd}`);
	return lines.join("\n");
}

/** Told at session start: runs no process drives that a resume would continue. */
export function resumableNotice(reports: readonly RunReport[]): string {
	const lines = reports.map((report) => {
		const done = report.stages.filter((stage) => stage.status === "completed").length;
		return `  ${report.runId}  ${report.workflow}  ${report.status}  ${done}/${report.stages.length} stages done`;
	});
	return [
		`Workflow runs that can be resumed (finished stages are not run again):`,
		...lines,
		"Resume one with /workflow resume <run> [message], or drop it with /workflow cancel <run>.",
	].join("\n");
}

function plural(count: number, word: string): string {
	return `${count} ${word}${count === 1 ? "" : "s"}`;
}
