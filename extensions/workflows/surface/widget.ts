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
		const report = run.run.report();
		// Spend and driven time across every process that drove the run, so a resume does not start them at 0.
		const spent = report.budget?.spent;
		const cost = spent?.costUsd ?? stages.reduce((sum, stage) => sum + stage.cost, 0);
		const elapsed = spent?.durationMs ?? now - run.startedAt;
		// Stages are counted as they start: a workflow's code does not say how many there will be.
		const counted = stages.filter((stage) => stage.isStage);
		const done = counted.filter((stage) => stage.status === "completed").length;
		const running = counted.filter((stage) => stage.status === "running").length;
		const waiting = stages.filter((stage) => stage.status === "waiting");
		const state = [`${done} ${done === 1 ? "stage" : "stages"} done`];
		if (running > 0) state.push(`${running} running`);
		if (waiting.length > 0) state.push(`waiting for an answer`);
		lines.push(
			`workflow ${run.workflow} ${run.run.runId}  ${state.join(", ")}  ${formatCost(cost)}  ${formatDuration(elapsed)}`,
		);
		const budget = formatBudget(report.budget);
		if (budget) lines.push(`  ${budget}`);
		for (const stage of stages.filter(
			(candidate) => candidate.status === "running" && candidate.kind !== "workflow",
		)) {
			const tool = stage.tool ? `  ${stage.tool}` : "";
			lines.push(`  > ${stage.id}  ${stage.model}${tool}  ${formatDuration(now - stage.startedAt)}`);
		}
		for (const prompt of waiting)
			lines.push(`  ? ${prompt.id}  waiting for an answer (/workflow answer ${run.run.runId})`);
	}
	return lines;
}

/** The footer's count: runs working, and runs that wait for a person. */
export function footerStatus(runs: readonly ManagedRun[]): string {
	const waiting = runs.filter((run) => liveStages(run).some((stage) => stage.status === "waiting")).length;
	const working = runs.length - waiting;
	const parts = [
		...(working > 0 ? [`${working} running`] : []),
		...(waiting > 0 ? [`${waiting} waiting for an answer`] : []),
	];
	return `workflows: ${parts.join(", ")}`;
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
		ctx.ui.setStatus(KEY, footerStatus(active));
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
