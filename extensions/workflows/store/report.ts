// Builds report.json (schema version 1, see DESIGN.md) from the run's fold, so a missing or stale report
// never loses a run, and writes it (atomically) together with report.md.

import { existsSync } from "node:fs";
import { isAbsolute, relative } from "node:path";
import type { StageAttempt as ResultAttempt, Usage, WorkflowBudget } from "../authoring/types.js";
import { writeAtomically } from "./atomic-write.js";
import type { NodeKind, NodeStatus, RunStatus } from "./events.js";
import { renderReportMarkdown } from "./report-markdown.js";
import type { RunPaths } from "./run-directory.js";
import type { RunFold, Spend } from "./run-fold.js";

/** One attempt of a stage as the report has it: a model's try (or one start of it); journals of earlier versions
 * recorded no usage per attempt. */
export type StageAttempt = Omit<ResultAttempt, "usage"> & { usage?: Usage };

export interface StageReport {
	id: string;
	/** A model stage (`ctx.task`) or a recorded side effect (`ctx.tool`). */
	kind: NodeKind;
	name: string;
	status: NodeStatus;
	parents: string[];
	model?: string;
	attempts: StageAttempt[];
	usage: Usage;
	durationMs?: number;
	sessionFile?: string;
	output?: string;
	error?: string;
	/** The result came from the journal of an earlier process, without running the stage again. */
	replayed: boolean;
	/** Why a resumed run ran this recorded stage again (its definition changed, output deleted, ...). */
	rerun?: string;
	/** The node it belongs to: a child workflow's node, or the multi-turn stage a prompt is part of. */
	within?: string;
	/** The named parallel group it ran in. */
	group?: string;
	/** A model stage's prompt and final answer, bounded (the whole of both is in its transcript). */
	prompt?: string;
	answer?: string;
	/** A stage in a git worktree: its change (the `.patch` artifact, files, +/-) and where the worktree is. */
	change?: { patch: string; files: number; insertions: number; deletions: number };
	worktree?: { root: string; branch: string };
}

export interface PromptReport {
	id: string;
	kind: string;
	message: string;
	/** select: the choices. */
	options?: string[];
	/** The stage whose session asked, for a dialog raised inside a stage. */
	stage?: string;
	/** Absent while the question waits. */
	answer?: unknown;
}

export interface RunReport {
	version: 1;
	runId: string;
	workflow: string;
	status: RunStatus;
	reason?: string;
	inputs: Record<string, unknown>;
	outputs?: Record<string, unknown>;
	startedAt: string;
	endedAt?: string;
	durationMs?: number;
	usage: Usage;
	stages: StageReport[];
	prompts: PromptReport[];
	artifacts: string[];
	errors: string[];
	/** Problems that did not stop the run: an unreadable journal line, a report or heartbeat write that failed. */
	warnings: string[];
	/** A pause, cancel or stop accepted while the stages it stops are still stopping. */
	stopping?: { mode: "pause" | "cancel" | "stop"; reason: string; status?: RunStatus };
	/** The limits in force and what the run spent against them (runs journaled before budgets had none). */
	budget?: { limits: WorkflowBudget; spent: Spend };
	/** Messages for stages that have not started yet, by stage. */
	queued?: Array<{ stage: string; messages: string[] }>;
	/** Messages that can never reach their stage (it never started before the run ended), and why. */
	undeliverable?: Array<{ stage: string; messages: string[]; reason: string }>;
	/** The run's git worktrees still on disk (kept: the run is not over, failed, or was asked to keep them). */
	worktrees?: Array<{ node: string; root: string; branch: string }>;
}

interface Counts {
	insertions: number;
	deletions: number;
}

/** How much of a stage's answer the report keeps (the whole is in the transcript, or its output file). */
const ANSWER_EXCERPT = 2_000;

function bounded(text: string, max: number): string {
	return text.length <= max ? text : `${text.slice(0, max)}... [${text.length - max} more characters]`;
}

/** The report of a run as its fold has it. Paths inside the run directory become relative to it. */
export function buildReport(fold: RunFold, runDir: string, artifacts: readonly string[] = []): RunReport {
	const { run } = fold;
	const show = (path: string) => {
		const rel = relative(runDir, path);
		return rel.startsWith("..") || isAbsolute(rel) ? path : rel;
	};
	const stages: StageReport[] = [];
	const prompts: PromptReport[] = [];
	const listed = new Set(artifacts);
	const allArtifacts = [...artifacts];
	for (const node of fold.nodes()) {
		const started = node.started;
		const stage: StageReport = {
			id: node.id,
			kind: node.kind,
			name: node.name,
			status: node.status,
			parents: node.parents,
			attempts: node.attempts.map((attempt) => ({ ...attempt, model: attempt.model ?? "" })),
			usage: node.usage,
			replayed: node.replayed,
			...(node.within ? { within: node.within } : {}),
			...(started.group ? { group: started.group } : {}),
		};
		if (started.kind === "task" || started.kind === "stage") {
			stage.model = started.model;
			stage.sessionFile = show(started.sessionFile);
		}
		if (started.kind === "task" && started.worktree) stage.worktree = started.worktree;
		if (started.kind === "task" && started.prompt) stage.prompt = started.prompt;
		if (started.kind === "worktree") stage.worktree = { root: started.root, branch: started.branch };
		if (node.durationMs !== undefined) stage.durationMs = node.durationMs;
		if (node.error !== undefined && node.status !== "completed" && node.status !== "interrupted")
			stage.error = node.error;
		if (node.rerun) stage.rerun = node.rerun;
		const result = node.result as
			| {
					model?: string;
					text?: string;
					outputPath?: string;
					change?: { patchFile: string; files: unknown[] } & Counts;
			  }
			| undefined;
		if (node.kind === "task" && node.status === "completed" && result) {
			if (result.model) stage.model = result.model;
			if (typeof result.text === "string") stage.answer = bounded(result.text, ANSWER_EXCERPT);
			if (result.change) {
				const { patchFile, files, insertions, deletions } = result.change;
				stage.change = { patch: show(patchFile), files: files.length, insertions, deletions };
			}
			if (result.outputPath) {
				stage.output = show(result.outputPath);
				if (!listed.has(stage.output)) {
					listed.add(stage.output);
					allArtifacts.push(stage.output);
				}
			}
		}
		stages.push(stage);
		// A question that could not even be asked (a bad call) is a failed node, not a prompt of the run.
		if (started.kind === "prompt" && (node.status === "waiting" || node.status === "completed")) {
			const prompt: PromptReport = { id: node.id, kind: started.question.kind, message: started.question.message };
			if (started.question.options) prompt.options = started.question.options;
			if (started.stage) prompt.stage = started.stage;
			if (node.status === "completed") prompt.answer = node.result;
			prompts.push(prompt);
		}
	}
	const report: RunReport = {
		version: 1,
		runId: run.header.runId,
		workflow: run.header.workflow,
		status: fold.status(),
		inputs: run.inputs,
		startedAt: run.startedAt,
		usage: run.usage,
		stages,
		prompts,
		artifacts: allArtifacts,
		errors: [...run.errors],
		warnings: [...run.warnings],
	};
	const queued = [...fold.queuedStages()].map(([stage, messages]) => ({ stage, messages: [...messages] }));
	if (queued.length > 0) report.queued = queued;
	const lost = [...fold.undeliverable()].map(([stage, entry]) => ({ stage, ...entry }));
	if (lost.length > 0) report.undeliverable = lost;
	const worktrees = keptWorktrees(fold);
	if (worktrees.length > 0) report.worktrees = worktrees;
	if (run.reason) report.reason = run.reason;
	if (run.outputs) report.outputs = run.outputs;
	if (run.stopping) report.stopping = run.stopping;
	if (run.budget) report.budget = { limits: run.budget, spent: fold.spent(Date.now()) };
	if (run.endedAt) {
		report.endedAt = run.endedAt;
		report.durationMs = Date.parse(run.endedAt) - Date.parse(run.startedAt);
	}
	return report;
}

/** The worktrees the journal recorded (a stage's own, the run's) that are still on disk. */
function keptWorktrees(fold: RunFold): Array<{ node: string; root: string; branch: string }> {
	const kept: Array<{ node: string; root: string; branch: string }> = [];
	for (const node of fold.nodes()) {
		const started = node.started;
		const made =
			started.kind === "task" || started.kind === "stage"
				? started.worktree
				: started.kind === "worktree" && node.status === "completed"
					? (node.result as { root: string; branch: string } | undefined)
					: undefined;
		if (made && existsSync(made.root) && !kept.some((entry) => entry.root === made.root)) {
			kept.push({ node: node.id, root: made.root, branch: made.branch });
		}
	}
	return kept;
}

/** The report of a run whose owner is gone while it was running: interrupted, and resumable; or, when a stop was
 * accepted before the owner went, ended as that stop said (cancelled, paused, blocked). */
export function markInterrupted(report: RunReport): RunReport {
	if (report.status !== "running") return report;
	const stages = report.stages.map((stage) =>
		stage.status === "running" ? { ...stage, status: "interrupted" as const } : stage,
	);
	const { stopping, ...rest } = report;
	if (stopping) return { ...rest, status: stoppedStatus(stopping), reason: stopping.reason, stages };
	return { ...rest, status: "interrupted", reason: "the process running it stopped; resume it to continue", stages };
}

/** The status a run has once the stop it accepted took effect. */
export function stoppedStatus(stopping: NonNullable<RunReport["stopping"]>): RunStatus {
	if (stopping.mode === "pause") return "paused";
	if (stopping.mode === "cancel") return "cancelled";
	return stopping.status ?? "blocked";
}

/** Writes report.json (via a temporary file and rename, so readers never see half a report) and report.md. */
export function writeReport(paths: RunPaths, report: RunReport): void {
	writeAtomically(paths.reportJson, `${JSON.stringify(report, null, "\t")}\n`);
	writeAtomically(paths.reportMd, renderReportMarkdown(report));
}
