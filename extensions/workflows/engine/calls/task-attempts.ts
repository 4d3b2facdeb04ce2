// Running a stage: its model, then its fallbacks, one Pi session each, under the stage's watchdogs. A model is
// skipped when it has no credentials or its provider refused earlier in the run; an attempt that fails in a way
// another model may fix (auth, quota, overflow, silence, an empty answer, no valid structured result) is
// journaled (`node_attempt`) and the next model starts in a new transcript (a new `node_started`); any other
// failure ends the stage. A stage ended failed feeds the run's circuit breakers, and the live spend of every
// attempt feeds the run's budget, so a limit stops the stages that are running, not only the next one.

import { relative } from "node:path";
import type { StageAttempt, StageChange, StageResult, TaskOptions } from "../../authoring/types.js";
import { addUsage, zeroUsage } from "../../authoring/usage.js";
import { advancesToFallback, type FailureKind, refusesProvider } from "../../stages/failure-kind.js";
import type { StageSessionOutcome } from "../../stages/stage-session.js";
import { BudgetExceededError } from "../budget.js";
import { checkFrameLive } from "../child-budget.js";
import type { Scope } from "../scope.js";
import { scopeStopping } from "../scope-stop.js";
import { outputStamp, writeStageOutput } from "../stage/output-file.js";
import type { ModelChoice } from "../stage/prepare.js";
import {
	DEFAULT_IDLE_TIMEOUT_MS,
	DEFAULT_REPEAT_LIMIT,
	DEFAULT_TOOL_TIMEOUT_MS,
	StageGuard,
} from "../stage/stage-guard.js";
import { StructuredResult } from "../stage/structured-result.js";
import { saveChange } from "../worktrees.js";
import { runSession } from "./attempt-session.js";
import { journalStart, type NodeOutcome, type NodeRef, now } from "./protocol.js";
import { type StagePlace, stagePlace } from "./stage-place.js";
import { attemptFile, type Ready, skipReason, type TaskPlan, taskStart } from "./task-plan.js";

/** How one attempt ended, judged: a result, or a failure with its kind. */
type Verdict =
	| { ok: true; text: string; structured?: { value: unknown } }
	| { ok: false; kind: FailureKind; error: string; final: boolean; aborted?: boolean };

export async function runTaskAttempts(
	scope: Scope,
	node: NodeRef,
	stage: Ready,
	plan: TaskPlan,
	options: TaskOptions,
	signal: AbortSignal,
): Promise<NodeOutcome> {
	const { services } = scope;
	const startedAt = Date.now();
	const elapsed = () => Date.now() - startedAt;
	const placed = await stagePlace(scope, node, stage, plan);
	if (!placed.ok) return { status: "failed", error: placed.error, durationMs: elapsed() };
	const { place } = placed;
	// The worktree made now is journaled with the stage's start, so a resume works on in it.
	if (place.made) {
		plan = { ...plan, worktree: place.made };
		journalStart<"task">(scope, node, stage, taskStart(stage, plan));
	}
	if (plan.finished) {
		const attempt = {
			model: stage.models[plan.attempt]?.label ?? stage.model.label,
			ok: true,
			usage: plan.finished.usage,
		};
		return completed(
			scope,
			node,
			stage,
			plan,
			place,
			options,
			{ ok: true, text: plan.finished.text },
			[attempt],
			elapsed(),
		);
	}
	const structured = options.schema ? new StructuredResult(options.schema) : undefined;
	let steer: ((message: string) => Promise<void>) | undefined;
	const guard = new StageGuard({
		runSignal: signal,
		...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
		idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
		toolTimeoutMs: options.toolTimeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS,
		...(options.budget ? { budget: options.budget } : {}),
		repeatLimit: DEFAULT_REPEAT_LIMIT,
		...(plan.continued && node.recorded ? { spentBefore: node.recorded.usage } : {}),
		onSpend: (usage) => {
			const reason = services.budget.onLive(node.id, usage);
			if (reason) services.stopRun(new BudgetExceededError(reason));
			else if (scope.frame) checkFrameLive(scope, node.id, usage);
		},
		steer: (message) => {
			steer?.(message).catch((error: unknown) => {
				services.warn(`stage "${node.id}": a steering message was not delivered: ${describe(error)}`);
			});
		},
	});
	const attempts: StageAttempt[] = [];
	// A new stage that starts past its first models skipped them (no credentials, a provider that refused).
	const first = plan.continued || plan.wasInFlight ? plan.attempt : 0;
	for (const choice of stage.models.slice(first, plan.attempt)) skipped(scope, node, choice, attempts);
	let journaled = plan.attempt;
	let sessionFile = plan.sessionFile;
	let continued = plan.continued === true;
	try {
		for (let index = plan.attempt; index < stage.models.length; index++) {
			const choice = stage.models[index] as ModelChoice;
			const skip = skipReason(scope, choice);
			if (skip) {
				attempts.push({ model: choice.label, ok: false, skipped: true, error: skip, usage: zeroUsage() });
				services.record({
					type: "node_attempt",
					at: now(),
					stageId: node.id,
					model: choice.label,
					error: skip,
					skipped: true,
				});
				services.warn(`stage "${node.id}": model ${choice.label} skipped: ${skip}`);
				continue;
			}
			if (index !== journaled) {
				const reason = services.budget.startProblem(node.id, false, `tried its next model, ${choice.label}`);
				if (reason) {
					services.stopRun(new BudgetExceededError(reason));
					return { status: "interrupted", error: reason, durationMs: elapsed() };
				}
				sessionFile = attemptFile(scope, node.id, services.fold.node(node.id));
				continued = false;
				const detail: TaskPlan = { ...plan, attempt: index, sessionFile, continued: false };
				journalStart<"task">(scope, node, stage, taskStart(stage, detail));
				journaled = index;
				guard.nextAttempt();
				structured?.reset();
			}
			const outcome = await runSession(scope, node, stage, choice, {
				plan: { ...plan, sessionFile, continued },
				place,
				attempt: index,
				options,
				guard,
				structured,
				onSteerable: (handle) => {
					steer = handle;
				},
			});
			const verdict = judge(outcome, guard, structured, stage, plan, options);
			if (verdict.ok) {
				attempts.push({ model: choice.label, ok: true, usage: outcome.usage });
				return completed(
					scope,
					node,
					stage,
					{ ...plan, sessionFile },
					place,
					options,
					verdict,
					attempts,
					elapsed(),
				);
			}
			if (verdict.aborted) {
				const stopping = scopeStopping(scope);
				const interrupted = stopping === "pause" || stopping === "stop";
				return {
					status: interrupted ? "interrupted" : "cancelled",
					error: stopping === "pause" ? "paused" : stopping === "stop" ? "stopped" : verdict.error,
					usage: outcome.usage,
					durationMs: elapsed(),
				};
			}
			if (refusesProvider(verdict.kind)) services.breakers.refuse(choice.model?.model.provider ?? "", verdict.error);
			attempts.push({
				model: choice.label,
				ok: false,
				error: verdict.error,
				kind: verdict.kind,
				usage: outcome.usage,
			});
			const hasNext = stage.models.slice(index + 1).some((next) => !skipReason(scope, next));
			if (advancesToFallback(verdict.kind) && !verdict.final && hasNext) {
				services.record({
					type: "node_attempt",
					at: now(),
					stageId: node.id,
					model: choice.label,
					error: verdict.error,
					kind: verdict.kind,
					sessionFile,
					usage: outcome.usage,
				});
				services.budget.settle(node.id);
				continue;
			}
			const stop = services.breakers.stageFailed(node.id, choice.label, verdict.kind, verdict.error);
			if (stop) services.stopRun(stop);
			return {
				status: "failed",
				error: failureText(verdict.error, attempts, stage.models.slice(index + 1)),
				kind: verdict.kind,
				usage: outcome.usage,
				durationMs: elapsed(),
			};
		}
		return {
			status: "failed",
			error: `no model could be tried: ${attempts.map((attempt) => `${attempt.model}: ${attempt.error}`).join("; ")}`,
			durationMs: elapsed(),
		};
	} finally {
		guard.dispose();
	}
}

/** Journals a model the stage does not try, and why (also as a warning: it is shown in status and show). */
function skipped(scope: Scope, node: NodeRef, choice: ModelChoice, attempts: StageAttempt[]): void {
	const { services } = scope;
	const error = skipReason(scope, choice) ?? "skipped";
	attempts.push({ model: choice.label, ok: false, skipped: true, error, usage: zeroUsage() });
	services.record({ type: "node_attempt", at: now(), stageId: node.id, model: choice.label, error, skipped: true });
	services.warn(`stage "${node.id}": model ${choice.label} skipped: ${error}`);
}

function judge(
	outcome: StageSessionOutcome,
	guard: StageGuard,
	structured: StructuredResult | undefined,
	stage: Ready,
	plan: TaskPlan,
	options: TaskOptions,
): Verdict {
	const tripped = guard.stopped;
	if (tripped) {
		const abandoned = outcome.abandoned ? "; the provider ignored the stop, so its late answer is not used" : "";
		return { ok: false, kind: tripped.kind, error: `${tripped.error}${abandoned}`, final: tripped.final };
	}
	if (!outcome.ok) {
		if (outcome.aborted)
			return { ok: false, kind: "aborted", error: outcome.error ?? "stopped", final: true, aborted: true };
		return { ok: false, kind: outcome.kind ?? "other", error: outcome.error ?? "failed", final: false };
	}
	if (structured) {
		const submitted = structured.value;
		if (!submitted) return { ok: false, kind: "structured", error: structured.failure(), final: false };
		return { ok: true, text: outcome.text, structured: submitted };
	}
	const wroteOutput = stage.outputPath !== undefined && outputStamp(stage.outputPath) !== plan.outputStamp;
	if (outcome.text.trim() === "" && !wroteOutput && options.outputMode !== "file-only") {
		return { ok: false, kind: "empty", error: "the model's answer was empty", final: false };
	}
	return { ok: true, text: outcome.text };
}

async function completed(
	scope: Scope,
	node: NodeRef,
	stage: Ready,
	plan: TaskPlan,
	place: StagePlace,
	options: TaskOptions,
	verdict: Extract<Verdict, { ok: true }>,
	attempts: StageAttempt[],
	durationMs: number,
): Promise<NodeOutcome> {
	const { services } = scope;
	const last = attempts.at(-1) as StageAttempt;
	if (stage.outputPath) {
		const roots = {
			cwd: services.settings.cwd,
			paths: services.paths,
			...(place.worktree ? { worktree: place.worktree.root } : {}),
		};
		const text =
			verdict.text.trim() === "" && verdict.structured
				? `${JSON.stringify(verdict.structured.value, null, 2)}\n`
				: verdict.text;
		// A dry run writes into its own folder only; an output in the project is named, not written.
		const outside = relative(services.paths.runDir, stage.outputPath).startsWith("..");
		if (services.settings.dryRun && outside) {
			services.warn(`dry run: stage "${node.id}" would write ${stage.outputPath}; not written`);
		} else {
			const written = writeStageOutput(stage.outputPath, text, roots, plan.outputStamp);
			if (!written.ok) return { status: "failed", error: written.error, usage: last.usage, durationMs };
		}
	}
	const usage = attempts.reduce((sum, attempt) => addUsage(sum, attempt.usage), zeroUsage());
	let change: StageChange | undefined;
	if (place.worktree) {
		const saved = await saveChange(scope, node.id, place.worktree, "its change");
		if (!saved.ok) return { status: "failed", error: saved.error, usage: last.usage, durationMs };
		change = saved.value;
	}
	const result: StageResult = {
		name: node.name,
		id: node.id,
		text:
			options.outputMode === "file-only"
				? `[file-only output of stage "${node.id}": ${stage.outputPath}]`
				: verdict.text,
		sessionFile: plan.sessionFile,
		...(stage.outputPath ? { outputPath: stage.outputPath } : {}),
		model: last.model,
		usage,
		durationMs,
		...(attempts.length > 1 ? { attempts } : {}),
		...(verdict.structured ? { structured: verdict.structured.value } : {}),
		...(change ? { change } : {}),
	};
	// The result carries its usage and duration; the event repeats the last attempt's usage only when the stage
	// tried more than one model (the journal keeps usage per transcript).
	return { status: "completed", result, ...(attempts.length > 1 ? { usage: last.usage } : {}) };
}

function failureText(error: string, attempts: StageAttempt[], rest: ModelChoice[]): string {
	const tried = attempts.filter((attempt) => !attempt.skipped);
	const skipped = [
		...attempts.filter((attempt) => attempt.skipped).map((attempt) => attempt.model),
		...rest.map((choice) => choice.label),
	];
	if (tried.length <= 1 && skipped.length === 0) return error;
	const models = tried.map((attempt) => `${attempt.model} (${attempt.kind ?? "failed"})`).join(", ");
	return `${error} [models tried: ${models}${skipped.length > 0 ? `; not tried: ${skipped.join(", ")}` : ""}]`;
}

function describe(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
