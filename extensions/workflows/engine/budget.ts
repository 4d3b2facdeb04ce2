// The run's budget at work: the limits in force (the workflow's, a one-run override on top, and the default
// stage limit), what the run has spent (settled stages from the fold, plus what the stages in flight have spent
// so far, live), and the checks: before any call may start, and on every model turn of a running stage, so a
// run overshoots a limit by at most the turns in flight. Reaching a limit is a RunStop: the run ends `blocked`.

import { RunStop } from "../authoring/run-stop.js";
import type { Usage, WorkflowBudget } from "../authoring/types.js";
import { formatDuration } from "../store/report-markdown.js";
import type { RunFold, Spend } from "../store/run-fold.js";

/** Stages a run may start when its budget names no limit: no run starts thousands of stages unasked. */
export const DEFAULT_MAX_STAGES = 200;

export class BudgetExceededError extends RunStop {
	override readonly name = "BudgetExceededError";

	constructor(reason: string) {
		super("blocked", reason);
	}
}

export interface BudgetLimits extends WorkflowBudget {
	maxStages: number;
}

/** The limits in force: the workflow's, each key of a one-run override replacing it, the default stage limit. */
export function budgetLimits(definition?: WorkflowBudget, override?: WorkflowBudget): BudgetLimits {
	return { maxStages: DEFAULT_MAX_STAGES, ...definition, ...override };
}

export type { Spend };

export function spendOf(usage: Usage, stages: number, durationMs: number): Spend {
	return {
		stages,
		turns: usage.turns,
		toolCalls: usage.toolCalls,
		tokens: usage.totalTokens,
		costUsd: usage.cost,
		durationMs,
	};
}

type LimitKey = Exclude<keyof WorkflowBudget, "warnAtPercent">;

const MEASURES: Array<{ key: LimitKey; spent: (spend: Spend) => number; show: (value: number) => string }> = [
	{ key: "maxStages", spent: (spend) => spend.stages, show: (value) => counted(value, "stage") },
	{ key: "maxTurns", spent: (spend) => spend.turns, show: (value) => counted(value, "model turn") },
	{ key: "maxToolCalls", spent: (spend) => spend.toolCalls, show: (value) => counted(value, "tool call") },
	{ key: "maxTokens", spent: (spend) => spend.tokens, show: (value) => counted(value, "token") },
	{ key: "maxCostUsd", spent: (spend) => spend.costUsd, show: showUsd },
	{ key: "maxDurationMs", spent: (spend) => spend.durationMs, show: (value) => formatDuration(value) },
];

function counted(value: number, unit: string): string {
	return `${value} ${unit}${value === 1 ? "" : "s"}`;
}

/** Dollars with the precision small limits need: `$2.00`, `$0.0123`, `$0.00001`. */
function showUsd(value: number): string {
	if (value >= 0.01) return `$${value.toFixed(2)}`;
	return `$${Number(value.toPrecision(3))}`;
}

/** The first limit `spend` has reached, said with its figures; `adding` is what the next step would add. */
export function reachedLimit(
	limits: WorkflowBudget,
	spend: Spend,
	adding: Partial<Spend> = {},
): { key: LimitKey; text: string } | undefined {
	for (const measure of MEASURES) {
		const limit = limits[measure.key];
		if (limit === undefined) continue;
		const spent = measure.spent(spend);
		const next = spent + measure.spent(addSpend(ZERO_SPEND, adding));
		const reached = measure.key === "maxStages" ? next > limit : spent >= limit;
		if (reached) {
			return {
				key: measure.key,
				text: `${measure.show(spent)} reached the limit of ${measure.show(limit)} (${measure.key})`,
			};
		}
	}
	return undefined;
}

const ZERO_SPEND: Spend = { stages: 0, turns: 0, toolCalls: 0, tokens: 0, costUsd: 0, durationMs: 0 };

export function addSpend(a: Spend, b: Partial<Spend>): Spend {
	return {
		stages: a.stages + (b.stages ?? 0),
		turns: a.turns + (b.turns ?? 0),
		toolCalls: a.toolCalls + (b.toolCalls ?? 0),
		tokens: a.tokens + (b.tokens ?? 0),
		costUsd: a.costUsd + (b.costUsd ?? 0),
		durationMs: a.durationMs + (b.durationMs ?? 0),
	};
}

export class RunBudget {
	/** What the stages in flight have spent in their current attempt, by node id (not yet in the fold). */
	private readonly live = new Map<string, Usage>();
	private readonly warned = new Set<string>();

	constructor(
		readonly limits: BudgetLimits,
		private readonly fold: RunFold,
		private readonly warn: (message: string) => void,
	) {}

	/** Spent so far: settled stages, the live part of running ones, the run's driven time. */
	spend(): Spend {
		let spend = this.fold.spent(Date.now());
		for (const live of this.live.values()) spend = addSpend(spend, spendOf(live, 0, 0));
		return spend;
	}

	/** Before a call may start: throws the stop when a limit is reached. `newStage`: the call would start one. */
	checkStart(nodeId: string, newStage: boolean): void {
		const reason = this.startProblem(nodeId, newStage);
		if (reason) throw new BudgetExceededError(reason);
	}

	/** Why a call (or a stage's next model attempt) may not start, when a limit is reached. */
	startProblem(nodeId: string, newStage: boolean, what = "started"): string | undefined {
		const reached = reachedLimit(this.limits, this.spend(), newStage ? { stages: 1 } : {});
		if (reached) return `budget: ${reached.text} before stage "${nodeId}" ${what}`;
		this.warnNearLimits();
		return undefined;
	}

	/** A running stage's spend in its current attempt; says why the run must stop when that reached a limit. */
	onLive(nodeId: string, usage: Usage): string | undefined {
		this.live.set(nodeId, usage);
		const reached = reachedLimit(this.limits, this.spend());
		if (reached) return `budget: ${reached.text} while stage "${nodeId}" ran; the running stages were stopped`;
		this.warnNearLimits();
		return undefined;
	}

	/** The stage's attempt is in the fold now (or never will be): its live part is dropped. */
	settle(nodeId: string): void {
		this.live.delete(nodeId);
	}

	/** How long the run may still be driven, when it has a duration limit. */
	remainingMs(): number | undefined {
		const limit = this.limits.maxDurationMs;
		return limit === undefined ? undefined : Math.max(0, limit - this.fold.activeMs(Date.now()));
	}

	durationReason(): string {
		return `budget: ${formatDuration(this.fold.activeMs(Date.now()))} of driving reached the limit of ${formatDuration(this.limits.maxDurationMs ?? 0)} (maxDurationMs); the running stages were stopped`;
	}

	private warnNearLimits(): void {
		const percent = this.limits.warnAtPercent;
		if (percent === undefined) return;
		const spend = this.spend();
		for (const measure of MEASURES) {
			const limit = this.limits[measure.key];
			if (limit === undefined || this.warned.has(measure.key)) continue;
			const spent = measure.spent(spend);
			if (spent < (limit * percent) / 100) continue;
			this.warned.add(measure.key);
			this.warn(
				`budget: ${measure.show(spent)} spent, ${percent}% of the limit of ${measure.show(limit)} (${measure.key})`,
			);
		}
	}
}
