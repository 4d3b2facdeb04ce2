// Renders report.md: the human-readable receipt of a run (status, cost, stages, graph, outputs, errors).

import { renderMermaid } from "./graph-mermaid.js";
import type { GraphNode } from "./graph-text.js";
import type { RunReport, StageReport } from "./report.js";

export function renderReportMarkdown(report: RunReport): string {
	const lines: string[] = [`# Workflow run ${report.runId}: ${report.workflow}`, ""];
	lines.push(`- Status: **${report.status}**${report.reason ? ` (${report.reason})` : ""}`);
	lines.push(`- Started: ${report.startedAt}${report.endedAt ? `, ended: ${report.endedAt}` : ""}`);
	if (report.durationMs !== undefined) lines.push(`- Duration: ${formatDuration(report.durationMs)}`);
	lines.push(
		`- Usage: ${report.usage.totalTokens} tokens (${report.usage.input} in, ${report.usage.output} out), ` +
			`${report.usage.turns} turns, ${report.usage.toolCalls} tool calls, ${formatCost(report.usage.cost)}`,
	);
	const budget = report.budget;
	if (budget) {
		const { limits, spent } = budget;
		const pairs: Array<[number | undefined, string]> = [
			[limits.maxStages, `${spent.stages} of ${limits.maxStages} stages`],
			[limits.maxTurns, `${spent.turns} of ${limits.maxTurns} turns`],
			[limits.maxToolCalls, `${spent.toolCalls} of ${limits.maxToolCalls} tool calls`],
			[limits.maxTokens, `${spent.tokens} of ${limits.maxTokens} tokens`],
			[limits.maxCostUsd, `${formatCost(spent.costUsd)} of ${formatCost(limits.maxCostUsd ?? 0)}`],
			[limits.maxDurationMs, `${formatDuration(spent.durationMs)} of ${formatDuration(limits.maxDurationMs ?? 0)}`],
		];
		const shown = pairs.filter(([limit]) => limit !== undefined).map(([, text]) => text);
		if (shown.length > 0) lines.push(`- Budget: ${shown.join(", ")}`);
	}
	lines.push(
		"",
		"## Stages",
		"",
		"| stage | status | model | duration | tokens | cost |",
		"|---|---|---|---|---|---|",
	);
	for (const stage of report.stages) {
		const duration = stage.durationMs === undefined ? "" : formatDuration(stage.durationMs);
		// Models the stage moved on from (or skipped) are named before the one that answered.
		const earlier = stage.attempts
			.filter((attempt) => !attempt.ok && attempt.model && attempt.model !== stage.model)
			.map((attempt) => `${attempt.model} (${attempt.skipped ? "skipped" : (attempt.kind ?? "failed")}), `)
			.join("");
		lines.push(
			`| ${stage.id} | ${stage.status} | ${earlier}${stage.model ?? ""} | ${duration} | ${stage.usage.totalTokens} | ${formatCost(stage.usage.cost)} |`,
		);
	}
	if (report.stages.length > 0) {
		lines.push("", "## Graph", "", "```mermaid", ...renderMermaid(stageGraphNodes(report.stages)), "```");
	}
	if (report.outputs) {
		lines.push("", "## Outputs", "", "```json", JSON.stringify(report.outputs, null, 2), "```");
	}
	if (report.artifacts.length > 0) {
		lines.push("", "## Artifacts", "", ...report.artifacts.map((path) => `- ${path}`));
	}
	if (report.errors.length > 0) {
		lines.push("", "## Errors", "", ...report.errors.map((error) => `- ${error}`));
	}
	return `${lines.join("\n")}\n`;
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
