// Renders report.md: the human-readable receipt of a run, and the TUI's `/workflow show` (the same page, with the
// graph drawn as text).

import { renderMermaid } from "./graph-mermaid.js";
import { type GraphNode, renderGraph } from "./graph-text.js";
import type { RunReport, StageReport } from "./report.js";

export interface ReportMarkdownOptions {
	/** How the graph is drawn: a mermaid flowchart (report.md: renders on GitHub and in editors) or the text drawing
	 * of the terminal (the TUI's `/workflow show`). */
	graph?: "mermaid" | "text";
}

/**
 * The receipt a reviewer reads: the outcome and why, inputs and outputs, budget use against its limits, a table of
 * the stages (status, models tried, turns, tool calls, tokens, cost, duration, replayed), the graph, what each stage
 * was asked and answered, the questions and their answers, the changes made, the artifacts (linked), the errors
 * (each naming its stage) and the warnings. Sections with nothing to say are left out.
 */
export function renderReportMarkdown(report: RunReport, options: ReportMarkdownOptions = {}): string {
	const lines: string[] = [`# Workflow run ${report.runId}: ${report.workflow}`, ""];
	lines.push(`- Outcome: **${report.status}**${report.reason ? `: ${report.reason}` : ""}`);
	lines.push(`- Started: ${report.startedAt}${report.endedAt ? `, ended: ${report.endedAt}` : ""}`);
	if (report.durationMs !== undefined) lines.push(`- Duration: ${formatDuration(report.durationMs)}`);
	lines.push(
		`- Usage: ${report.usage.totalTokens} tokens (${report.usage.input} in, ${report.usage.output} out), ` +
			`${report.usage.turns} turns, ${report.usage.toolCalls} tool calls, ${formatCost(report.usage.cost)}`,
	);
	section(lines, "Inputs", Object.keys(report.inputs).length > 0 ? json(report.inputs) : []);
	section(lines, "Outputs", report.outputs ? json(report.outputs) : []);
	section(lines, "Budget", budgetTable(report));
	section(lines, "Stages", stageTable(report.stages));
	if (report.stages.length > 0) {
		const graph =
			options.graph === "text"
				? ["```text", ...renderGraph(stageGraphNodes(report.stages)), "```"]
				: ["```mermaid", ...renderMermaid(stageGraphNodes(report.stages)), "```"];
		section(lines, "Graph", graph);
	}
	section(lines, "Prompts and answers", promptsAndAnswers(report.stages));
	section(
		lines,
		"Questions",
		report.prompts.map(
			(prompt) =>
				`- ${prompt.id} (${prompt.kind}${prompt.stage ? `, asked in stage ${prompt.stage}` : ""}): ${prompt.message}` +
				(prompt.answer === undefined ? " — waiting for an answer" : ` — answered ${JSON.stringify(prompt.answer)}`),
		),
	);
	section(
		lines,
		"Changes",
		report.stages.flatMap((stage) =>
			stage.change
				? [
						`- ${stage.id}: ${stage.change.files} ${stage.change.files === 1 ? "file" : "files"}, +${stage.change.insertions} -${stage.change.deletions}` +
							(stage.change.files > 0 ? `, diff: [${stage.change.patch}](${stage.change.patch})` : ""),
					]
				: [],
		),
	);
	section(
		lines,
		"Artifacts",
		report.artifacts.map((path) => `- [${path}](${path})`),
	);
	section(
		lines,
		"Errors",
		report.errors.map((error) => `- ${error}`),
	);
	section(
		lines,
		"Warnings",
		report.warnings.map((warning) => `- ${warning}`),
	);
	return `${lines.join("\n")}\n`;
}

function section(lines: string[], title: string, body: readonly string[]): void {
	if (body.length > 0) lines.push("", `## ${title}`, "", ...body);
}

function json(value: unknown): string[] {
	return ["```json", JSON.stringify(value, null, 2), "```"];
}

function budgetTable(report: RunReport): string[] {
	const budget = report.budget;
	if (!budget) return [];
	const { limits, spent } = budget;
	const rows: Array<[string, number | undefined, string, string]> = [
		["stages", limits.maxStages, String(spent.stages), String(limits.maxStages)],
		["turns", limits.maxTurns, String(spent.turns), String(limits.maxTurns)],
		["tool calls", limits.maxToolCalls, String(spent.toolCalls), String(limits.maxToolCalls)],
		["tokens", limits.maxTokens, String(spent.tokens), String(limits.maxTokens)],
		["cost", limits.maxCostUsd, formatCost(spent.costUsd), formatCost(limits.maxCostUsd ?? 0)],
		["time", limits.maxDurationMs, formatDuration(spent.durationMs), formatDuration(limits.maxDurationMs ?? 0)],
	];
	const shown = rows.filter(([, limit]) => limit !== undefined);
	if (shown.length === 0) return [];
	return [
		"| limit | spent | of |",
		"|---|---|---|",
		...shown.map(([name, , used, of]) => `| ${name} | ${used} | ${of} |`),
	];
}

function stageTable(stages: readonly StageReport[]): string[] {
	if (stages.length === 0) return [];
	const rows = stages.map((stage) => {
		// Models the stage moved on from (or skipped) are named before the one that answered.
		const earlier = stage.attempts
			.filter((attempt) => !attempt.ok && attempt.model && attempt.model !== stage.model)
			.map((attempt) => `${attempt.model} (${attempt.skipped ? "skipped" : (attempt.kind ?? "failed")}), `)
			.join("");
		const model = stage.model ?? (stage.kind === "task" ? "" : stage.kind);
		const cells = [
			stage.id,
			stage.status,
			`${earlier}${model}`,
			String(stage.usage.turns),
			String(stage.usage.toolCalls),
			String(stage.usage.totalTokens),
			formatCost(stage.usage.cost),
			stage.durationMs === undefined ? "" : formatDuration(stage.durationMs),
			stage.replayed ? "yes" : "",
		];
		return `| ${cells.map(cell).join(" | ")} |`;
	});
	return [
		"| stage | status | model | turns | tool calls | tokens | cost | duration | replayed |",
		"|---|---|---|---|---|---|---|---|---|",
		...rows,
	];
}

/** What each model stage was asked and what it answered (excerpts; the transcripts hold the whole). */
function promptsAndAnswers(stages: readonly StageReport[]): string[] {
	return stages
		.filter((stage) => stage.prompt !== undefined || stage.answer !== undefined)
		.flatMap((stage) => [
			`### ${stage.id}`,
			"",
			...(stage.prompt !== undefined ? ["Prompt:", "", quote(stage.prompt), ""] : []),
			...(stage.answer !== undefined ? ["Answer:", "", quote(stage.answer), ""] : []),
			...(stage.sessionFile ? [`Transcript: [${stage.sessionFile}](${stage.sessionFile})`, ""] : []),
		])
		.slice(0, -1);
}

function quote(text: string): string {
	return text
		.split("\n")
		.map((line) => `> ${line}`)
		.join("\n");
}

/** A table cell: one line, with pipes escaped. */
function cell(text: string): string {
	return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/** A run's stages as graph nodes (renderGraph, renderMermaid): the models each tried, its duration as the label.
 * NOTE: the `within` in the type lets this read a nested stage's enclosing node before StageReport declares it. */
export function stageGraphNodes(stages: ReadonlyArray<StageReport & { within?: string }>): GraphNode[] {
	return stages.map((stage) => {
		const node: GraphNode = { id: stage.id, kind: stage.kind, status: stage.status, parents: stage.parents };
		if (stage.within !== undefined) node.within = stage.within;
		if (stage.group !== undefined) node.group = stage.group;
		const models = new Set(stage.attempts.map((attempt) => attempt.model).filter((model) => model));
		if (models.size > 1) node.attempts = models.size;
		if (stage.replayed) node.replayed = true;
		if (stage.durationMs !== undefined) node.label = formatDuration(stage.durationMs);
		return node;
	});
}

/** `850ms`, `12.3s`, `1m59s`, `2h05m`: rounded once, at the unit shown, so no field ever reads 60. */
export function formatDuration(ms: number): string {
	if (ms < 1000) return `${Math.round(ms)}ms`;
	const tenths = Math.round(ms / 100);
	if (tenths < 600) return `${(tenths / 10).toFixed(1)}s`;
	const seconds = Math.round(ms / 1000);
	if (seconds < 3600) return `${Math.floor(seconds / 60)}m${pad(seconds % 60)}s`;
	const minutes = Math.round(ms / 60_000);
	return `${Math.floor(minutes / 60)}h${pad(minutes % 60)}m`;
}

function pad(value: number): string {
	return value.toString().padStart(2, "0");
}

export function formatCost(usd: number): string {
	return usd >= 0.01 ? `$${usd.toFixed(2)}` : `$${usd.toFixed(4)}`;
}
