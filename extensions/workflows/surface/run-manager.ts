// Runs owned by this pi process. It lives on globalThis, not in a session or an extension instance,
// so /new, /resume, /fork and /reload never kill or orphan a running workflow: the new extension
// instance finds the same manager and rebinds its UI to it.

import { existsSync, statSync } from "node:fs";
import { relative, resolve as resolvePath } from "node:path";
import type { ModelRegistry } from "@mariozechner/pi-coding-agent";
import type { AnyWorkflowDefinition } from "../authoring/types.js";
import type { PendingPrompt } from "../engine/calls/prompt-board.js";
import {
	type ResumeWorkflowOptions,
	type RunProgressEvent,
	type RunWorkflowOptions,
	resumeWorkflow,
	startWorkflow,
	type WorkflowRun,
} from "../engine/run.js";
import { listRuns, matchRunId, openRunView, projectStore, type RunListing } from "../engine/runs.js";
import type { NodeStatus } from "../store/events.js";
import type { RunReport } from "../store/report.js";
import { runsRoot } from "../store/run-directory.js";
import type { RunStore } from "../store/run-store.js";

/** Finished runs kept in memory for their final report (older ones are read from disk when asked for). */
const FINISHED_KEPT = 20;

/** Live view of a stage, for the widget: its state from the run's fold, the tool it runs from its activity. */
export interface LiveStage {
	id: string;
	/** What the node is (task, tool, prompt, workflow, stage, ...). */
	kind: string;
	/** Whether it counts as a stage: a model stage or a multi-turn session, not a prompt of one, a tool or a gate. */
	isStage: boolean;
	status: NodeStatus;
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
	/** The tool each running stage is in now. */
	tools: Map<string, string>;
	/** Set when the run has ended. */
	final?: RunReport;
}

/** The stages of a run as the widget shows them. */
export function liveStages(managed: ManagedRun): LiveStage[] {
	const nodes = [...managed.run.nodes()];
	const kinds = new Map(nodes.map((node) => [node.id, node.kind]));
	return nodes.map((node) => {
		const started = node.started;
		const model = node.replayed
			? "replayed"
			: started.kind === "task" || started.kind === "stage"
				? started.model
				: started.kind === "prompt"
					? "waiting for an answer"
					: started.kind;
		const tool = managed.tools.get(node.id);
		const inSession = node.within !== undefined && kinds.get(node.within) === "stage";
		return {
			id: node.id,
			kind: node.kind,
			isStage: node.kind === "stage" || (node.kind === "task" && !inSession),
			status: node.status,
			model,
			startedAt: Date.parse(started.at),
			...(tool && node.status === "running" ? { tool } : {}),
			cost: node.usage.cost,
		};
	});
}

export type RunListener = (run: ManagedRun, ended: boolean) => void;

/** Shows a question of a run to the person at the current session (if any). */
export type PromptPresenter = (run: ManagedRun, prompt: PendingPrompt) => void;

export class RunManager {
	private readonly runs = new Map<string, ManagedRun>();
	private listener: RunListener | undefined;
	/** Labels of runs offered in completions, with the journal's change time they were read at. */
	private readonly choiceLabels = new Map<string, { changed: number; label: string }>();
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
			tools: new Map(),
		} as Omit<ManagedRun, "run"> as ManagedRun;
		const onEvent = (event: RunProgressEvent) => {
			this.track(managed, event);
			options.onEvent?.(event);
		};
		const onPrompt = (prompt: PendingPrompt) => this.presenter?.(managed, prompt);
		managed.run = launch(onEvent, onPrompt);
		const run = managed.run;
		this.runs.set(run.runId, managed);
		this.emit(managed, false);
		void run.done.then((report) => {
			managed.final = report;
			this.emit(managed, true);
			this.forgetOldFinished();
		});
		return managed;
	}

	/** Keeps the newest finished runs only; their reports are on disk. */
	private forgetOldFinished(): void {
		const finished = [...this.runs.values()].filter((run) => run.final);
		for (const run of finished.slice(0, Math.max(0, finished.length - FINISHED_KEPT)))
			this.runs.delete(run.run.runId);
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
		return live && !live.final
			? live.run.report()
			: openRunView(projectStore(cwd), runId, { artifacts: true }).report;
	}

	/** Finds a run by id or unique prefix among this process's runs and the project's runs on disk. */
	resolve(cwd: string, prefix: string): string {
		const store = projectStore(cwd);
		const given = prefix.trim();
		// A run's folder given as a path (`.pi/workflows/runs/<id>`, `../runs/<id>`) names the run in it.
		const inRuns = given.includes("/") ? relative(runsRoot(cwd), resolvePath(cwd, given)) : undefined;
		if (inRuns !== undefined && (inRuns === "" || inRuns.startsWith("..") || inRuns.includes("/"))) {
			throw new Error(
				`expected a run id (or a unique prefix of one) or a folder in ${runsRoot(cwd)}, got "${given}"`,
			);
		}
		const wanted = inRuns ?? given;
		const match = matchRunId(wanted, this.allRunIds(cwd));
		if (match.ok) return match.runId;
		if (wanted && wanted !== "." && wanted !== ".." && store.exists(wanted)) {
			const paths = store.paths(wanted);
			throw new Error(
				`Run folder ${paths.runDir} has no journal (${paths.journal}): it cannot be shown or resumed.`,
			);
		}
		throw new Error(match.error);
	}

	/** Every run of a project with its current report (live ones from this process), or the error that kept
	 * it from being read: one broken run never hides the others. */
	listings(cwd: string): Array<{ runId: string; report: RunReport } | { runId: string; error: string }> {
		const fromDisk = new Map<string, RunListing>(
			listRuns(projectStore(cwd)).map((listing) => [listing.runId, listing]),
		);
		const listings = this.allRunIds(cwd).map((runId) => {
			const live = this.runs.get(runId);
			if (live && !live.final) return { runId, report: live.run.report() };
			const listing = fromDisk.get(runId);
			if (!listing) return { runId, error: "its journal is gone" };
			return "view" in listing ? { runId, report: listing.view.report } : listing;
		});
		// Newest first; a run that cannot be read goes last.
		const started = (listing: (typeof listings)[number]) => ("report" in listing ? listing.report.startedAt : "");
		return listings.sort((a, b) => started(b).localeCompare(started(a)));
	}

	/** Runs to pick from (completions): the most recently active first, each with its workflow, status and age.
	 * Bounded, and each run's label is read again only when its journal changed. */
	runChoices(cwd: string, limit = 30): Array<{ runId: string; description: string }> {
		const store = projectStore(cwd);
		const recent = this.allRunIds(cwd)
			.map((runId) => ({ runId, changed: lastChange(store, runId) }))
			.sort((a, b) => b.changed - a.changed)
			.slice(0, limit);
		return recent.map(({ runId, changed }) => {
			const cached = this.choiceLabels.get(runId);
			if (cached && cached.changed === changed) return { runId, description: cached.label };
			let label: string;
			try {
				const report = this.report(cwd, runId);
				label = `${report.workflow}  ${report.status}  ${age(report.startedAt)}`;
			} catch (error) {
				label = `unreadable: ${error instanceof Error ? error.message : String(error)}`;
			}
			this.choiceLabels.set(runId, { changed, label });
			return { runId, description: label };
		});
	}

	allRunIds(cwd: string): string[] {
		const here = [...this.runs.values()].filter((run) => run.cwd === cwd).map((run) => run.run.runId);
		return [...new Set([...projectStore(cwd).listRunIds(), ...here])];
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
			const { activity, stageId } = progress;
			if (activity.type === "tool_start") managed.tools.set(stageId, activity.tool);
			else managed.tools.delete(stageId);
		} else if (progress.event.type === "node_finished") {
			managed.tools.delete(progress.event.stageId);
		}
		this.emit(managed, false);
	}

	private emit(run: ManagedRun, ended: boolean): void {
		if (!run.run) return;
		// A UI listener's failure (a stale session, say) must never reach the run: it becomes a warning of it.
		try {
			this.listener?.(run, ended);
		} catch (error) {
			if (!ended) run.run.warn(`the live view failed: ${error instanceof Error ? error.message : String(error)}`);
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

/** When a run's journal last changed (0: it has none). */
function lastChange(store: RunStore, runId: string): number {
	const journal = store.paths(runId).journal;
	return existsSync(journal) ? statSync(journal).mtimeMs : 0;
}

/** How long ago a time was, coarsely: `12s ago`, `5m ago`, `3h ago`, `2d ago`. */
export function age(iso: string, now = Date.now()): string {
	const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
	if (!Number.isFinite(seconds)) return "";
	if (seconds < 60) return `${seconds}s ago`;
	if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
	if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`;
	return `${Math.floor(seconds / 86_400)}d ago`;
}
