// Runs one ctx.task call: checks its options, resolves model and paths, journals the start, runs the
// Pi session under the run-wide limit, writes the output file and journals the end. Any problem found
// before the session starts fails the stage with no model call and nothing written but the journal.

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { StageError } from "../authoring/stage-error.js";
import type { StageResult, TaskOptions } from "../authoring/types.js";
import { zeroUsage } from "../authoring/usage.js";
import { type ResolvedModel, resolveModelSpec } from "../stages/model-spec.js";
import { runStageSession } from "../stages/stage-session.js";
import { checkBudget } from "./budget.js";
import { stageFingerprint } from "./fingerprint.js";
import type { Scope } from "./scope.js";
import { resolveOutputPath, resolveReadPath } from "./stage-paths.js";
import { buildStagePrompt } from "./stage-prompt.js";

interface PreparedStage {
	model: ResolvedModel;
	reads: string[];
	outputPath?: string;
	forkFrom?: string;
	prompt: string;
	fingerprint: string;
}

export async function runStage(scope: Scope, name: string, options: TaskOptions): Promise<StageResult> {
	const { services } = scope;
	const stageName = typeof name === "string" && name.trim() ? name : "(unnamed)";
	const id = services.ids.next(stageName);
	const parents = scope.frontier.take();
	const fail = (reason: string, stopped = false) => new StageError(services.workflow, id, reason, stopped);
	if (scope.signal.aborted) throw fail("not started: the run was stopped", true);
	checkBudget(services.budget, services.spent(), id);

	const sessionFile = join(services.paths.stagesDir, `${id.replace(/[^\w.-]/g, "_")}.jsonl`);
	const started = (prepared?: PreparedStage) =>
		services.record(
			{
				type: "stage_started",
				at: new Date().toISOString(),
				stageId: id,
				name: stageName,
				parents,
				fingerprint: prepared?.fingerprint ?? "",
				model: prepared?.model.label ?? options?.model ?? services.defaultModel ?? "",
				sessionFile,
			},
			true,
		);
	const settle = () => scope.frontier.settle(id);

	const prepared = prepareStage(scope, id, name, options, parents);
	if (!prepared.ok) {
		started();
		services.record(
			{ type: "stage_failed", at: now(), stageId: id, error: prepared.error, usage: zeroUsage(), durationMs: 0 },
			true,
		);
		settle();
		throw fail(prepared.error);
	}
	const stage = prepared.value;

	return services.limiter(async () => {
		if (scope.signal.aborted) {
			settle();
			throw fail("not started: the run was stopped", true);
		}
		started(stage);
		const startedAt = Date.now();
		const outcome = await runStageSession({
			cwd: services.cwd,
			agentDir: services.agentDir,
			sessionFile,
			forkFrom: stage.forkFrom,
			model: stage.model,
			tools: options.tools,
			appendSystemPrompt: options.systemPrompt,
			prompt: stage.prompt,
			modelRegistry: services.modelRegistry(),
			resources: services.stageResources,
			retry: services.retry,
			uiContext: services.uiContext,
			signal: scope.signal,
			onActivity: (activity) => services.activity(id, activity),
		}).catch((error: unknown) => ({
			ok: false as const,
			text: "",
			error: `could not start the Pi session: ${error instanceof Error ? error.message : String(error)}`,
			usage: zeroUsage(),
			aborted: false,
		}));
		const durationMs = Date.now() - startedAt;
		if (!outcome.ok) {
			const error = outcome.error ?? "failed";
			const stopped = outcome.aborted === true;
			const stageFailed = {
				type: "stage_failed",
				at: now(),
				stageId: id,
				error,
				usage: outcome.usage,
				durationMs,
			} as const;
			services.record(stopped ? { ...stageFailed, cancelled: true } : stageFailed, true);
			settle();
			throw fail(error, stopped);
		}
		if (stage.outputPath) {
			mkdirSync(dirname(stage.outputPath), { recursive: true });
			writeFileSync(stage.outputPath, outcome.text);
		}
		const fileOnly = options.outputMode === "file-only";
		const result: StageResult = {
			name: stageName,
			id,
			text: fileOnly ? `[file-only output of stage "${id}": ${stage.outputPath}]` : outcome.text,
			sessionFile,
			...(stage.outputPath ? { outputPath: stage.outputPath } : {}),
			model: stage.model.label,
			usage: outcome.usage,
			durationMs,
		};
		services.record({ type: "stage_completed", at: now(), stageId: id, result }, true);
		services.completed.push(result);
		settle();
		return result;
	});
}

type Prepared = { ok: true; value: PreparedStage } | { ok: false; error: string };

function prepareStage(scope: Scope, id: string, rawName: unknown, options: TaskOptions, parents: string[]): Prepared {
	const { services } = scope;
	const problem = checkTaskOptions(rawName, options);
	if (problem) return { ok: false, error: problem };
	const spec = options.model ?? services.defaultModel;
	if (!spec)
		return { ok: false, error: `model: none given and the run has no default model; set "model" to "provider/id"` };
	const model = resolveModelSpec(spec, services.modelRegistry());
	if (!model.ok) return model;
	const roots = { cwd: services.cwd, runDir: services.paths.runDir, artifactsDir: services.paths.artifactsDir };
	let outputPath: string | undefined;
	if (options.output !== undefined) {
		const resolved = resolveOutputPath(options.output, roots);
		if (!resolved.ok) return resolved;
		outputPath = resolved.path;
	}
	const reads: string[] = [];
	for (const path of options.reads ?? []) {
		const resolved = resolveReadPath(path, roots);
		if (!resolved.ok) return resolved;
		reads.push(resolved.path);
	}
	const context = options.context ?? "fresh";
	let forkFrom: string | undefined;
	if (context === "fork") {
		const source = findForkSource(scope, options.forkFrom, parents);
		if (!source.ok) return source;
		forkFrom = source.path;
	}
	const prompt = buildStagePrompt({
		workflow: services.workflow,
		stage: id,
		prompt: options.prompt,
		previous: options.previous,
		reads,
		outputPath,
	});
	const fingerprint = stageFingerprint({
		prompt,
		model: model.value.label,
		tools: options.tools,
		systemPrompt: options.systemPrompt,
		reads,
		output: outputPath,
		outputMode: options.outputMode ?? "inline",
		context,
		forkFrom: options.forkFrom,
	});
	return { ok: true, value: { model: model.value, reads, outputPath, forkFrom, prompt, fingerprint } };
}

function checkTaskOptions(name: unknown, options: TaskOptions): string | undefined {
	if (typeof name !== "string" || name.trim() === "")
		return `name: expected a non-empty string, got ${JSON.stringify(name)}`;
	if (typeof options !== "object" || options === null) return `options: expected an object, got ${typeof options}`;
	if (typeof options.prompt !== "string" || options.prompt.trim() === "") {
		return `prompt: expected a non-empty string, got ${JSON.stringify(options.prompt)}`;
	}
	if (options.context !== undefined && options.context !== "fresh" && options.context !== "fork") {
		return `context: expected "fresh" or "fork", got ${JSON.stringify(options.context)}`;
	}
	if (options.outputMode !== undefined && options.outputMode !== "inline" && options.outputMode !== "file-only") {
		return `outputMode: expected "inline" or "file-only", got ${JSON.stringify(options.outputMode)}`;
	}
	if (options.outputMode === "file-only" && !options.output)
		return `outputMode "file-only" needs "output" (the file to write)`;
	for (const key of ["tools", "reads"] as const) {
		const list = options[key];
		if (list !== undefined && (!Array.isArray(list) || list.some((item) => typeof item !== "string"))) {
			return `${key}: expected an array of strings, got ${JSON.stringify(list)}`;
		}
	}
	return undefined;
}

function findForkSource(
	scope: Scope,
	forkFrom: string | undefined,
	parents: string[],
): { ok: true; path: string } | { ok: false; error: string } {
	const completed = scope.services.completed;
	if (forkFrom) {
		const source = completed.findLast((result) => result.id === forkFrom || result.name === forkFrom);
		if (source) return { ok: true, path: source.sessionFile };
		const known = completed.map((result) => result.id).join(", ") || "none yet";
		return { ok: false, error: `forkFrom: no completed stage named "${forkFrom}" (completed: ${known})` };
	}
	const parentResults = completed.filter((result) => parents.includes(result.id));
	const only = parentResults.length === 1 ? parentResults[0] : undefined;
	if (only) return { ok: true, path: only.sessionFile };
	return {
		ok: false,
		error: `context "fork": expected exactly one completed parent stage to fork from, got ${parentResults.length} (${parents.join(", ") || "none"}); name one with "forkFrom"`,
	};
}

function now(): string {
	return new Date().toISOString();
}
