// The watchdogs of one stage (all its model attempts): its time limit, its idle limit (no streamed output and
// no tool activity for too long; a running tool counts as activity up to its own limit), its budget, and the
// loop check (the same tool call again and again: one steering message, then the stage fails). Tripping one
// aborts the stage's session with a reason that says what the stage was doing; the run's own stop comes
// through the same signal.

import type { StageBudget, Usage } from "../../authoring/types.js";
import { addUsage, zeroUsage } from "../../authoring/usage.js";
import type { FailureKind } from "../../stages/failure-kind.js";
import type { StageActivity } from "../../stages/stage-session.js";
import { formatDuration } from "../../store/report-markdown.js";
import { reachedLimit, spendOf } from "../budget.js";

/** Defaults a stage's options can change. */
export const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60_000;
export const DEFAULT_TOOL_TIMEOUT_MS = 30 * 60_000;
export const DEFAULT_REPEAT_LIMIT = 5;

export interface StageGuardOptions {
	/** The run's signal: a stop of the run stops the stage. */
	runSignal: AbortSignal;
	timeoutMs?: number;
	/** 0 turns the idle watchdog off. */
	idleTimeoutMs: number;
	/** How long one tool call counts as activity. */
	toolTimeoutMs: number;
	budget?: StageBudget;
	/** The same tool call (name and arguments) this many times in a row: a steering message; twice as many: fail. */
	repeatLimit: number;
	/** What the stage spent before this process took it on (a continued stage), for its own budget. */
	spentBefore?: Usage;
	/** What the stage spent in its current attempt so far, live (the run's budget watches it). */
	onSpend(usage: Usage): void;
	steer(message: string): void;
}

export interface GuardStop {
	kind: FailureKind;
	error: string;
	/** The whole stage is over (its time limit, its budget): no fallback model may try. */
	final: boolean;
}

export class StageGuard {
	/** The current attempt's stop: the run's stop, a watchdog of the stage (time limit, budget: no attempt after
	 * it) or of the attempt (silence, a tool over its limit, no progress). One controller per attempt, linked to
	 * the run's signal by a listener (cheaper than combining signals for every stage). */
	private attemptController = new AbortController();
	private stageStopped = false;
	private readonly onRunAbort = () => this.attemptController.abort();
	private stopReason: GuardStop | undefined;
	/** Dialogs waiting on a person: no watchdog counts that time as silence. */
	private holds = 0;
	private readonly startedAt = Date.now();
	private settledUsage: Usage;
	private attemptUsage = zeroUsage();
	private doing = "waiting for the model's first answer";
	private runningTool: { name: string; since: number } | undefined;
	private idleTimer: ReturnType<typeof setTimeout> | undefined;
	private lastActivity = Date.now();
	private idleDeadline = 0;
	private readonly timeoutTimer: ReturnType<typeof setTimeout> | undefined;
	private lastCall: string | undefined;
	private repeats = 0;
	private steered = false;

	constructor(private readonly options: StageGuardOptions) {
		if (options.runSignal.aborted) this.attemptController.abort();
		else options.runSignal.addEventListener("abort", this.onRunAbort, { once: true });
		this.settledUsage = options.spentBefore ?? zeroUsage();
		if (options.timeoutMs !== undefined) {
			this.timeoutTimer = setTimeout(
				() =>
					this.trip("timeout", `timed out after ${formatDuration(options.timeoutMs ?? 0)} (${this.doing})`, true),
				options.timeoutMs,
			);
			this.timeoutTimer.unref?.();
		}
		this.armIdle();
	}

	/** Aborted when the run stops or a watchdog trips: the signal of the current attempt. */
	get signal(): AbortSignal {
		return this.attemptController.signal;
	}

	/** Why a watchdog stopped the stage, once one did. */
	get stopped(): GuardStop | undefined {
		return this.stopReason;
	}

	/** Everything the stage spent, over its attempts so far. */
	get usage(): Usage {
		return addUsage(this.settledUsage, this.attemptUsage);
	}

	/** A new model attempt begins (after a fallback): its spend starts at zero, the watchdogs start over. */
	nextAttempt(): void {
		if (this.stopReason?.final) return;
		this.stopReason = undefined;
		// The run's listener aborts whichever controller is current.
		this.attemptController = new AbortController();
		if (this.options.runSignal.aborted || this.stageStopped) this.attemptController.abort();
		this.settledUsage = addUsage(this.settledUsage, this.attemptUsage);
		this.attemptUsage = zeroUsage();
		this.doing = "waiting for the model's first answer";
		this.runningTool = undefined;
		this.lastCall = undefined;
		this.repeats = 0;
		this.steered = false;
		this.armIdle();
	}

	observe(activity: StageActivity): void {
		switch (activity.type) {
			case "output":
				this.doing = this.runningTool ? this.doing : "streaming the model's answer";
				break;
			case "tool_start":
				this.runningTool = { name: activity.tool, since: Date.now() };
				this.doing = `running tool "${activity.tool}"`;
				this.countRepeat(activity.tool, activity.args);
				break;
			case "tool_end":
				this.runningTool = undefined;
				this.doing = `waiting for the model after tool "${activity.tool}"`;
				break;
			case "turn": {
				this.attemptUsage = addUsage(this.attemptUsage, activity.usage);
				this.doing = "waiting for the model";
				this.options.onSpend(this.attemptUsage);
				const budget = this.options.budget;
				if (budget) {
					const reached = reachedLimit(budget, spendOf(this.usage, 0, Date.now() - this.startedAt));
					if (reached) this.trip("budget", `stage budget: ${reached.text}`, true);
				}
				break;
			}
		}
		this.armIdle();
	}

	/** A dialog of the stage waits on a person (until the returned release is called): that is not silence. */
	hold(): () => void {
		this.holds++;
		let released = false;
		return () => {
			if (released) return;
			released = true;
			this.holds--;
			this.armIdle();
		};
	}

	dispose(): void {
		clearTimeout(this.idleTimer);
		this.idleTimer = undefined;
		clearTimeout(this.timeoutTimer);
		this.options.runSignal.removeEventListener("abort", this.onRunAbort);
	}

	private countRepeat(tool: string, args: unknown): void {
		const call = `${tool} ${JSON.stringify(args ?? null)}`;
		this.repeats = call === this.lastCall ? this.repeats + 1 : 1;
		this.lastCall = call;
		const limit = this.options.repeatLimit;
		if (this.repeats >= 2 * limit) {
			this.trip("no-progress", `no progress: the same call of tool "${tool}" ${this.repeats} times in a row`);
		} else if (this.repeats >= limit && !this.steered) {
			this.steered = true;
			this.options.steer(
				`You have called tool "${tool}" with the same arguments ${this.repeats} times in a row without progress. Stop repeating it: try something else, or give your answer.`,
			);
		}
	}

	/**
	 * The idle watchdog: one timer, re-armed for what is left when it fires early (activity since moved the
	 * deadline), so activity itself only notes the time. A running tool has its own, longer limit, counted from its
	 * start; a dialog waiting on a person is never silence.
	 */
	private armIdle(): void {
		const now = Date.now();
		this.lastActivity = now;
		const tool = this.runningTool;
		const deadline = tool ? tool.since + this.options.toolTimeoutMs : now + this.options.idleTimeoutMs;
		// Only a deadline earlier than the armed one (a tool with a shorter limit) needs the timer moved.
		if (this.idleTimer === undefined || deadline < this.idleDeadline) {
			clearTimeout(this.idleTimer);
			this.idleTimer = undefined;
			this.scheduleIdle(deadline - now);
		}
	}

	private scheduleIdle(delay: number): void {
		if (this.options.idleTimeoutMs === 0 || this.stopReason) return;
		this.idleDeadline = Date.now() + delay;
		this.idleTimer = setTimeout(() => this.checkIdle(), Math.max(1, delay));
		this.idleTimer.unref?.();
	}

	private checkIdle(): void {
		this.idleTimer = undefined;
		const now = Date.now();
		if (this.holds > 0) {
			this.lastActivity = now;
			this.scheduleIdle(this.options.idleTimeoutMs);
			return;
		}
		const tool = this.runningTool;
		const limit = tool ? this.options.toolTimeoutMs : this.options.idleTimeoutMs;
		const since = tool ? tool.since : this.lastActivity;
		if (now - since < limit) {
			this.scheduleIdle(limit - (now - since));
			return;
		}
		const what = tool
			? `tool "${tool.name}" ran for ${formatDuration(now - tool.since)}, over its limit`
			: `no output from the model and no tool activity for ${formatDuration(limit)} (${this.doing})`;
		this.trip("timeout", `stopped: ${what}`);
	}

	private trip(kind: FailureKind, error: string, final = false): void {
		if (this.stopReason || this.options.runSignal.aborted) return;
		this.stopReason = { kind, error, final };
		clearTimeout(this.idleTimer);
		this.idleTimer = undefined;
		if (final) {
			clearTimeout(this.timeoutTimer);
			this.stageStopped = true;
		}
		this.attemptController.abort();
	}
}
