// Runs owned by this pi process. It lives on globalThis, not in a session or an extension instance,
// so /new, /resume, /fork and /reload never kill or orphan a running workflow: the new extension
// instance finds the same manager and rebinds its UI to it.

import type { ModelRegistry } from "@mariozechner/pi-coding-agent";
import type { AnyWorkflowDefinition } from "../authoring/types.js";
import { type RunProgressEvent, type RunWorkflowOptions, startWorkflow, type WorkflowRun } from "../engine/run.js";
import type { RunReport } from "../journal/report.js";
import { listRunIds, matchRunId, readRunReport } from "../journal/run-index.js";

/** Live view of a stage, for the widget. */
export interface LiveStage {
	id: string;
	status: "running" | "completed" | "failed" | "cancelled";
	model: string;
	startedAt: number;
	/** Tool the stage is running now, if any. */
	tool?: string;
	cost: number;
}

export interface ManagedRun {
	run: WorkflowRun;
	workflow: string;
	startedBy: "user" | "model";
	startedAt: number;
	cwd: string;
	stages: Map<string, LiveStage>;
	/** Set when the run has ended. */
	final?: RunReport;
}

export type RunListener = (run: ManagedRun, ended: boolean) => void;

export class RunManager {
	private readonly runs = new Map<string, ManagedRun>();
	private listener: RunListener | undefined;
	/** The current session's model registry; runs resolve later stages' models with it. */
	modelRegistry: ModelRegistry | undefined;

	start(
		definition: AnyWorkflowDefinition,
		inputs: unknown,
		options: RunWorkflowOptions,
		startedBy: ManagedRun["startedBy"],
	): ManagedRun {
		// The record exists before the run starts: its first events arrive before startWorkflow returns.
		const managed = {
			workflow: definition.name,
			startedBy,
			startedAt: Date.now(),
			cwd: options.cwd,
			stages: new Map(),
		} as Omit<ManagedRun, "run"> as ManagedRun;
		const onEvent = (event: RunProgressEvent) => {
			this.track(managed, event);
			options.onEvent?.(event);
		};
		managed.run = startWorkflow(definition, inputs, { ...options, onEvent });
		const run = managed.run;
		this.runs.set(run.runId, managed);
		this.emit(managed, false);
		void run.done.then((report) => {
			managed.final = report;
			this.emit(managed, true);
		});
		return managed;
	}

	get(runId: string): ManagedRun | undefined {
		return this.runs.get(runId);
	}

	active(): ManagedRun[] {
		return [...this.runs.values()].filter((run) => !run.final);
	}

	/** Current report of a run, live or on disk. */
	report(cwd: string, runId: string): RunReport {
		const live = this.runs.get(runId);
		return live ? (live.final ?? live.run.report()) : readRunReport(cwd, runId);
	}

	/** Finds a run by id or unique prefix among this process's runs and the project's runs on disk. */
	resolve(cwd: string, prefix: string): string {
		const known = [...new Set([...listRunIds(cwd), ...this.runs.keys()])];
		const match = matchRunId(prefix, known);
		if (!match.ok) throw new Error(match.error);
		return match.runId;
	}

	allRunIds(cwd: string): string[] {
		return [...new Set([...listRunIds(cwd), ...this.runs.keys()])];
	}

	/** Sets the one UI listener (the current session's); a new session replaces the old one. */
	setListener(listener: RunListener | undefined): void {
		this.listener = listener;
	}

	private track(managed: ManagedRun, progress: RunProgressEvent): void {
		if (progress.type === "activity") {
			const stage = managed.stages.get(progress.stageId);
			if (!stage) return;
			if (progress.activity.type === "tool_start") stage.tool = progress.activity.tool;
			if (progress.activity.type === "tool_end") stage.tool = undefined;
		} else {
			const event = progress.event;
			if (event.type === "stage_started") {
				managed.stages.set(event.stageId, {
					id: event.stageId,
					status: "running",
					model: event.model,
					startedAt: Date.parse(event.at),
					cost: 0,
				});
			} else if (event.type === "stage_completed" || event.type === "stage_failed") {
				const stage = managed.stages.get(event.stageId);
				if (stage) {
					stage.status = event.type === "stage_completed" ? "completed" : event.cancelled ? "cancelled" : "failed";
					stage.cost = event.type === "stage_completed" ? event.result.usage.cost : event.usage.cost;
					stage.tool = undefined;
				}
			}
		}
		this.emit(managed, false);
	}

	private emit(run: ManagedRun, ended: boolean): void {
		if (!run.run) return;
		try {
			this.listener?.(run, ended);
		} catch {
			// A UI listener's failure (a stale session, say) must never reach the run.
		}
	}
}

const KEY = Symbol.for("pi-workflows.run-manager");

/** The process-wide manager (one per pi process, shared by every extension instance). */
export function runManager(): RunManager {
	const holder = globalThis as { [KEY]?: RunManager };
	holder[KEY] ??= new RunManager();
	return holder[KEY];
}
