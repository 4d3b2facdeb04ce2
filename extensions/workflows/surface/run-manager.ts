// Runs owned by this pi process. It lives on globalThis, not in a session or an extension instance,
// so /new, /resume, /fork and /reload never kill or orphan a running workflow: the new extension
// instance finds the same manager and rebinds its UI to it.

import { existsSync } from "node:fs";
import type { ModelRegistry } from "@mariozechner/pi-coding-agent";
import type { AnyWorkflowDefinition } from "../authoring/types.js";
import type { PendingPrompt } from "../engine/prompt-call.js";
import {
	type ResumeWorkflowOptions,
	type RunProgressEvent,
	type RunWorkflowOptions,
	resumeWorkflow,
	startWorkflow,
	type WorkflowRun,
} from "../engine/run.js";
import type { JournalEvent } from "../store/events.js";
import type { RunReport } from "../store/report.js";
import { runPaths } from "../store/run-directory.js";
import { listRunIds, matchRunId, readRunReport } from "../store/run-index.js";

/** Live view of a stage, for the widget. */
export interface LiveStage {
	id: string;
	status: "running" | "completed" | "failed" | "cancelled" | "interrupted";
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

/** Shows a question of a run to the person at the current session (if any). */
export type PromptPresenter = (run: ManagedRun, prompt: PendingPrompt) => void;

export class RunManager {
	private readonly runs = new Map<string, ManagedRun>();
	private listener: RunListener | undefined;
	private presenter: PromptPresenter | undefined;
	/** The current session's model registry; runs resolve later stages' models with it. */
	modelRegistry: ModelRegistry | undefined;

	start(
		definition: AnyWorkflowDefinition,
		inputs: unknown,
		options: RunWorkflowOptions,
		startedBy: ManagedRun["startedBy"],
	): ManagedRun {
		return this.adopt(definition.name, options, startedBy, (onEvent, onPrompt) =>
			startWorkflow(definition, inputs, { ...options, onEvent, onPrompt }),
		);
	}

	/** Takes over a run from disk (see resumeWorkflow); throws when it cannot be resumed. */
	resume(
		definition: AnyWorkflowDefinition,
		options: ResumeWorkflowOptions,
		startedBy: ManagedRun["startedBy"],
	): ManagedRun {
		const live = this.runs.get(options.runId);
		if (live && !live.final) throw new Error(`Run ${options.runId} is already running in this process.`);
		return this.adopt(definition.name, options, startedBy, (onEvent, onPrompt) =>
			resumeWorkflow(definition, { ...options, onEvent, onPrompt }),
		);
	}

	private adopt(
		workflow: string,
		options: { cwd: string; onEvent?: (event: RunProgressEvent) => void },
		startedBy: ManagedRun["startedBy"],
		launch: (onEvent: (event: RunProgressEvent) => void, onPrompt: (prompt: PendingPrompt) => void) => WorkflowRun,
	): ManagedRun {
		// The record exists before the run starts: its first events arrive before the launch returns.
		const managed = {
			workflow,
			startedBy,
			startedAt: Date.now(),
			cwd: options.cwd,
			stages: new Map(),
		} as Omit<ManagedRun, "run"> as ManagedRun;
		const onEvent = (event: RunProgressEvent) => {
			this.track(managed, event);
			options.onEvent?.(event);
		};
		const onPrompt = (prompt: PendingPrompt) => {
			try {
				this.presenter?.(managed, prompt);
			} catch {
				// The question stays pending and answerable from any surface.
			}
		};
		managed.run = launch(onEvent, onPrompt);
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

	/** Current report of a run: live while this process drives it, else from disk (another process may
	 * have resumed it since). */
	report(cwd: string, runId: string): RunReport {
		const live = this.runs.get(runId);
		return live && !live.final ? live.run.report() : readRunReport(cwd, runId);
	}

	/** Finds a run by id or unique prefix among this process's runs and the project's runs on disk. */
	resolve(cwd: string, prefix: string): string {
		const known = [...new Set([...listRunIds(cwd), ...this.runs.keys()])];
		const match = matchRunId(prefix, known);
		if (match.ok) return match.runId;
		const paths = runPaths(cwd, prefix.trim());
		if (prefix.trim() && existsSync(paths.runDir)) {
			throw new Error(
				`Run folder ${paths.runDir} has no journal (${paths.journal}): it cannot be shown or resumed.`,
			);
		}
		throw new Error(match.error);
	}

	allRunIds(cwd: string): string[] {
		return [...new Set([...listRunIds(cwd), ...this.runs.keys()])];
	}

	/** Sets the one UI listener (the current session's); a new session replaces the old one. */
	setListener(listener: RunListener | undefined): void {
		this.listener = listener;
	}

	/** Sets who shows questions (the current session's UI); a new session replaces the old one. */
	setPromptPresenter(presenter: PromptPresenter | undefined): void {
		this.presenter = presenter;
	}

	private track(managed: ManagedRun, progress: RunProgressEvent): void {
		if (progress.type === "activity") {
			const stage = managed.stages.get(progress.stageId);
			if (!stage) return;
			if (progress.activity.type === "tool_start") stage.tool = progress.activity.tool;
			if (progress.activity.type === "tool_end") stage.tool = undefined;
		} else {
			const event = progress.event;
			const stage = "stageId" in event ? managed.stages.get(event.stageId) : undefined;
			const begin = (stageId: string, model: string, status: LiveStage["status"] = "running") =>
				managed.stages.set(stageId, { id: stageId, status, model, startedAt: Date.parse(event.at), cost: 0 });
			switch (event.type) {
				case "stage_started":
					begin(event.stageId, event.model);
					break;
				case "tool_started":
					begin(event.stageId, "tool");
					break;
				case "prompt_pending":
					begin(event.stageId, "waiting for an answer");
					break;
				case "prompt_answered":
					if (stage) stage.status = "completed";
					break;
				case "stage_replayed":
					begin(event.stageId, "replayed", "completed");
					break;
				case "stage_completed":
				case "stage_failed":
				case "stage_interrupted":
				case "tool_finished":
					if (!stage) break;
					stage.status = settledStatus(event);
					stage.cost =
						event.type === "stage_completed" ? event.result.usage.cost : "usage" in event ? event.usage.cost : 0;
					stage.tool = undefined;
					break;
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

function settledStatus(event: JournalEvent): LiveStage["status"] {
	switch (event.type) {
		case "stage_completed":
			return "completed";
		case "stage_interrupted":
			return "interrupted";
		case "stage_failed":
			return event.cancelled ? "cancelled" : "failed";
		case "tool_finished":
			return event.outcome.ok ? "completed" : event.stopped ? "interrupted" : "failed";
		default:
			return "running";
	}
}

const KEY = Symbol.for("pi-workflows.run-manager");

/** The process-wide manager (one per pi process, shared by every extension instance). */
export function runManager(): RunManager {
	const holder = globalThis as { [KEY]?: RunManager };
	holder[KEY] ??= new RunManager();
	return holder[KEY];
}
