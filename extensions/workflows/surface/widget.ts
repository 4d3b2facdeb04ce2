// The live view of this process's runs in interactive Pi: a widget above the editor (each active run
// and its stages: status, current tool, elapsed, cost) and a compact count in the footer status.

import type { ExtensionContext } from "@mariozechner/pi-coding-agent";
import { formatCost, formatDuration } from "../store/report-markdown.js";
import { formatBudget } from "./format.js";
import { liveStages, type ManagedRun, type RunManager } from "./run-manager.js";

const KEY = "workflows";

export function renderRunLines(runs: readonly ManagedRun[], now: number): string[] {
	const lines: string[] = [];
	for (const run of runs) {
		const stages = liveStages(run);
		const done = stages.filter((stage) => stage.status !== "running").length;
		const cost = stages.reduce((sum, stage) => sum + stage.cost, 0);
		lines.push(
			`workflow ${run.workflow} ${run.run.runId}  ${done}/${stages.length} stages  ${formatCost(cost)}  ${formatDuration(now - run.startedAt)}`,
		);
		const budget = formatBudget(run.run.report().budget);
		if (budget) lines.push(`  ${budget}`);
		for (const stage of stages.filter((candidate) => candidate.status === "running")) {
			const tool = stage.tool ? `  ${stage.tool}` : "";
			lines.push(`  > ${stage.id}  ${stage.model}${tool}  ${formatDuration(now - stage.startedAt)}`);
		}
	}
	return lines;
}

/** Draws the widget and footer for the active runs, and keeps elapsed times ticking while any run. */
export function createRunView(manager: RunManager, ctx: ExtensionContext): { refresh(): void; dispose(): void } {
	let timer: ReturnType<typeof setInterval> | undefined;
	const refresh = () => {
		const active = manager.active();
		if (active.length === 0) {
			ctx.ui.setWidget(KEY, undefined);
			ctx.ui.setStatus(KEY, undefined);
			if (timer) clearInterval(timer);
			timer = undefined;
			return;
		}
		ctx.ui.setWidget(KEY, renderRunLines(active, Date.now()));
		ctx.ui.setStatus(KEY, `workflows: ${active.length} running`);
		timer ??= setInterval(refresh, 1000);
		timer.unref?.();
	};
	return {
		refresh,
		dispose: () => {
			if (timer) clearInterval(timer);
			timer = undefined;
		},
	};
}
