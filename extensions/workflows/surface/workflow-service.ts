// What the `workflow` tool and the `/workflow` command share: finding a workflow (catalog + trust),
// starting or resuming a run in the background (UI modes) or waiting for it (print/json), and
// controlling runs wherever they are driven.

import { existsSync, writeSync } from "node:fs";
import { basename, isAbsolute, join, relative, resolve } from "node:path";
import { type ExtensionAPI, type ExtensionContext, getAgentDir } from "@mariozechner/pi-coding-agent";
import type { AnyWorkflowDefinition, WorkflowBudget } from "../authoring/types.js";
import type { PendingPrompt } from "../engine/calls/prompt-board.js";
import { dryRunWorkflow } from "../engine/dry-run.js";
import type { KnownModel } from "../engine/model-check.js";
import { controlRun } from "../engine/run-control.js";
import { openRunView, projectStore } from "../engine/runs.js";
import { abandonedSessions } from "../stages/stage-session.js";
import type { RunReport } from "../store/report.js";
import type { ControlRequest } from "../store/run-store.js";
import { type CatalogEntry, WorkflowCatalog } from "./catalog.js";
import { definitionFromSpec, parseSpec } from "./dynamic-spec.js";
import { headlessLines } from "./format.js";
import { piMode } from "./pi-mode.js";
import { type ManagedRun, runManager } from "./run-manager.js";
import { closestNames } from "./suggest.js";
import { createTrustStore, trustFromEnvironment } from "./trust.js";
import { loadWorkflowFile } from "./workflow-loader.js";

export const TRUST_FLAG = "trust-workflows";

/** Statuses a headless run exits non-zero for; paused and awaiting_input are stops, not failures. */
export const FAILED_STATUSES: ReadonlySet<string> = new Set(["failed", "blocked", "cancelled", "interrupted"]);

export interface StartedRun {
	managed: ManagedRun;
	/** The final report when the run was awaited (headless modes). */
	final?: RunReport;
}

export class WorkflowService {
	private readonly catalogs = new Map<string, WorkflowCatalog>();

	constructor(private readonly pi: ExtensionAPI) {}

	get agentDir(): string {
		return getAgentDir();
	}

	/** The catalog of a project, scanned on first use. */
	async catalog(cwd: string): Promise<WorkflowCatalog> {
		let catalog = this.catalogs.get(cwd);
		if (!catalog) {
			catalog = new WorkflowCatalog({ cwd, agentDir: this.agentDir });
			await catalog.reload();
			this.catalogs.set(cwd, catalog);
		}
		return catalog;
	}

	/** Workflow names known without scanning (for completion, which must be synchronous). */
	cachedNames(cwd: string): string[] {
		return (
			this.catalogs
				.get(cwd)
				?.list()
				.map((entry) => entry.name) ?? []
		);
	}

	async reload(cwd: string): Promise<WorkflowCatalog> {
		this.catalogs.delete(cwd);
		return this.catalog(cwd);
	}

	/** Finds a workflow by name, checking trust before a project file is imported. */
	async resolve(name: string, ctx: ExtensionContext): Promise<AnyWorkflowDefinition> {
		return (await this.resolveEntry(name, ctx)).definition;
	}

	/** Like resolve, with the file the workflow came from (recorded in a run's journal for resume). */
	async resolveEntry(
		name: string,
		ctx: ExtensionContext,
	): Promise<{ definition: AnyWorkflowDefinition; file: string }> {
		const catalog = await this.catalog(ctx.cwd);
		const entry = catalog.find(name);
		if (!entry) {
			const names = catalog.list().map((candidate) => candidate.name);
			const close = closestNames(name, names);
			const hint = close.length > 0 ? ` Did you mean ${close.map((n) => `"${n}"`).join(", ")}?` : "";
			throw new Error(`Unknown workflow "${name}".${hint} Known workflows: ${names.join(", ") || "none"}.`);
		}
		if (entry.scope === "project" && !entry.definition && !entry.error) await this.checkTrust(entry, ctx);
		await catalog.load(entry);
		if (entry.error || !entry.definition)
			throw new Error(`Workflow "${name}" (${entry.file}) cannot be used: ${entry.error}`);
		return { definition: entry.definition, file: entry.file };
	}

	/**
	 * The definition a run was started with, to resume it: its dynamic spec, or its workflow file as it is
	 * now (trust checked again: the file may have changed). Throws, changing nothing, when that is gone.
	 */
	async definitionForResume(runId: string, ctx: ExtensionContext): Promise<AnyWorkflowDefinition> {
		const store = projectStore(ctx.cwd);
		if (!store.has(runId))
			throw new Error(`Run ${runId} has no journal at ${store.paths(runId).journal}; nothing to resume.`);
		const view = openRunView(store, runId);
		const name = view.report.workflow;
		const started = view.started;
		if (started?.spec !== undefined) return definitionFromSpec(parseSpec(started.spec));
		const recorded = started?.workflowFile;
		if (!recorded) return this.resolve(name, ctx);
		// A project moved since the run started: its file is at the same place in the project as it is now.
		const file = existsSync(recorded) ? recorded : movedWith(recorded, started?.cwd, ctx.cwd);
		if (!file) {
			throw new Error(
				`Run ${runId} of workflow "${name}" cannot be resumed: its workflow file ${recorded} is gone (removed, or moved out of the project) since the run started. Restore the file to resume; nothing was changed.`,
			);
		}
		const catalog = await this.catalog(ctx.cwd);
		const entry = catalog.list().find((candidate) => candidate.file === file);
		if (!entry || entry.scope === "project") {
			await this.checkTrust({ name, file, scope: "project" }, ctx);
		}
		const loaded = await loadWorkflowFile(file);
		if (!loaded.ok) throw new Error(`Run ${runId}: workflow file ${file} cannot be loaded: ${loaded.error}`);
		return loaded.definition;
	}

	private async checkTrust(
		entry: Pick<CatalogEntry, "name" | "file" | "scope">,
		ctx: ExtensionContext,
	): Promise<void> {
		const store = createTrustStore(this.agentDir);
		if (store.isTrusted(entry.file)) return;
		if (trustFromEnvironment(this.pi.getFlag(TRUST_FLAG))) return;
		const shown = relative(ctx.cwd, entry.file);
		// Only a person at the TUI is asked; rpc clients and headless runs need the explicit flag.
		if (piMode(ctx.hasUI) === "interactive") {
			const ok = await ctx.ui.confirm(
				"Run a project workflow?",
				`${shown} is code from this repository; running it executes it with your permissions. Trust this version of the file?`,
			);
			if (!ok) throw new Error(`Workflow file ${shown} was not trusted; nothing was run.`);
			store.remember(entry.file);
			return;
		}
		throw new Error(
			`Workflow "${entry.name}" comes from the project file ${shown}, which is code from this repository and is not trusted yet. ` +
				`Run pi with --${TRUST_FLAG} (or set PI_WORKFLOWS_TRUST=1) to allow project workflows.`,
		);
	}

	/** Loads a workflow file and checks its declaration, running nothing of it but its module (a file that is not
	 * a builtin's or the user's is code of the repository: trusted first, as for a run). */
	async validateFile(
		given: string,
		ctx: ExtensionContext,
	): Promise<{ file: string; definition: AnyWorkflowDefinition }> {
		const file = resolve(ctx.cwd, given);
		if (!existsSync(file)) throw new Error(`validate: no file at ${file}`);
		if (!/\.[cm]?ts$/.test(file)) throw new Error(`validate: expected a TypeScript workflow file (.ts), got ${file}`);
		const catalog = await this.catalog(ctx.cwd);
		const entry = catalog.list().find((candidate) => candidate.file === file);
		if (!entry || entry.scope === "project") {
			const name = entry?.name ?? basename(file).replace(/\.[cm]?ts$/, "");
			await this.checkTrust({ name, file, scope: "project" }, ctx);
		}
		const loaded = await loadWorkflowFile(file);
		if (!loaded.ok) throw new Error(`${file}: ${loaded.error}`);
		return { file, definition: loaded.definition };
	}

	/** Walks a workflow against the stub model (engine/dry-run.ts): nothing is spent, nothing of the project written. */
	dryRun(definition: AnyWorkflowDefinition, inputs: unknown, ctx: ExtensionContext, allowTools: boolean | string[]) {
		const options = this.runOptions(ctx);
		return dryRunWorkflow(definition, inputs, {
			cwd: ctx.cwd,
			modelRegistry: options.modelRegistry(),
			...(options.defaultModel ? { defaultModel: options.defaultModel } : {}),
			allowTools,
		});
	}

	/** Starts a run. In UI modes it runs in the background; headless, it is awaited and summarised on stdout. */
	async start(
		definition: AnyWorkflowDefinition,
		inputs: unknown,
		ctx: ExtensionContext,
		startedBy: ManagedRun["startedBy"],
		source: {
			workflowFile?: string;
			spec?: unknown;
			budget?: WorkflowBudget;
			models?: readonly KnownModel[];
			keepWorktrees?: boolean;
		} = {},
	): Promise<StartedRun> {
		const managed = runManager().start(definition, inputs, { ...this.runOptions(ctx), ...source }, startedBy);
		return this.follow(managed, ctx, definition);
	}

	/** Resumes a run from disk, in the background (UI modes) or awaited (headless), like start. */
	async resume(
		runId: string,
		message: string | undefined,
		ctx: ExtensionContext,
		startedBy: ManagedRun["startedBy"],
		extra: { budget?: WorkflowBudget; keepWorktrees?: boolean } = {},
	): Promise<StartedRun> {
		const definition = await this.definitionForResume(runId, ctx);
		const { budget, keepWorktrees } = extra;
		const options = {
			...this.runOptions(ctx),
			runId,
			message,
			...(budget ? { budget } : {}),
			...(keepWorktrees ? { keepWorktrees } : {}),
		};
		const managed = runManager().resume(definition, options, startedBy);
		return this.follow(managed, ctx, definition);
	}

	private runOptions(ctx: ExtensionContext) {
		const model = ctx.model ? `${ctx.model.provider}/${ctx.model.id}` : undefined;
		const level = this.pi.getThinkingLevel();
		return {
			cwd: ctx.cwd,
			modelRegistry: () => runManager().modelRegistry ?? ctx.modelRegistry,
			defaultModel: model && level && level !== "off" ? `${model}:${level}` : model,
			uiContext: ctx.hasUI ? ctx.ui : undefined,
			// Headless, nobody can answer while the process lives: the run stops at a question.
			inputMode: ctx.hasUI ? ("wait" as const) : ("stop" as const),
		};
	}

	/** Whether a headless pi needs --trust-workflows to run this file: a project's file nobody trusted in the TUI. */
	private needsTrustFlag(file: string, ctx: ExtensionContext): boolean {
		const entry = this.catalogs
			.get(ctx.cwd)
			?.list()
			.find((candidate) => candidate.file === file);
		if (entry && entry.scope !== "project") return false;
		return !createTrustStore(this.agentDir).isTrusted(file);
	}

	private async follow(
		managed: ManagedRun,
		ctx: ExtensionContext,
		definition?: AnyWorkflowDefinition,
	): Promise<StartedRun> {
		if (ctx.hasUI) return { managed };
		const final = await managed.run.done;
		const flags = definition?.file && this.needsTrustFlag(definition.file, ctx) ? `--${TRUST_FLAG}` : "";
		for (const line of headlessLines(final, ctx.cwd, flags)) printHeadless(line);
		if (FAILED_STATUSES.has(final.status)) process.exitCode = 1;
		if (abandonedSessions() > 0) exitDespiteAbandoned();
		return { managed, final };
	}

	/**
	 * Answers a question of a run, wherever it is driven. When no process drives it (a headless run that
	 * stopped at the question), the answer is journaled and the run resumed, to its next stop.
	 */
	async answer(
		runId: string,
		promptId: string | undefined,
		value: unknown,
		ctx: ExtensionContext,
		startedBy: ManagedRun["startedBy"],
		announce: (message: string) => void = () => undefined,
	): Promise<{ message: string; resumed?: StartedRun }> {
		const message = await this.control(runId, { type: "answer", promptId, value }, ctx);
		announce(message);
		const live = runManager().get(runId);
		if ((live && !live.final) || projectStore(ctx.cwd).owner(runId).state === "owned") return { message };
		return { message, resumed: await this.resume(runId, undefined, ctx, startedBy) };
	}

	/** The questions a run waits on now, live or as journaled. */
	pendingPrompts(runId: string, ctx: ExtensionContext): PendingPrompt[] {
		const live = runManager().get(runId);
		if (live && !live.final) return live.run.pending();
		return openRunView(projectStore(ctx.cwd), runId).pending;
	}

	/** Pauses, cancels or steers a run, whichever process drives it (or none). */
	control(runId: string, request: ControlRequest, ctx: ExtensionContext): Promise<string> {
		const live = runManager().get(runId);
		return controlRun(projectStore(ctx.cwd), runId, request, live && !live.final ? live.run : undefined);
	}
}

/** Where a file of a project that was moved is now: the same path within the project, if it is there. */
function movedWith(file: string, projectThen: string | undefined, projectNow: string): string | undefined {
	if (!projectThen) return undefined;
	const within = relative(projectThen, file);
	if (within.startsWith("..") || isAbsolute(within)) return undefined;
	const now = join(projectNow, within);
	return existsSync(now) ? now : undefined;
}

/** How long a headless process may stay up after its run ended, held open only by abandoned sessions. */
const ABANDONED_EXIT_MS = 2_000;

/**
 * A session whose provider ignored a stop may keep a request open, and with it the process: headless, once the
 * run has ended and been reported, the process exits anyway after a short wait (a timer that does not itself keep
 * the process up, so a process with nothing left open exits at once, as always).
 */
function exitDespiteAbandoned(): void {
	const timer = setTimeout(() => process.exit(), ABANDONED_EXIT_MS);
	timer.unref();
}

/** Headless modes own stdout (Pi routes console output to stderr); write the summary to fd 1 itself. */
export function printHeadless(line: string): void {
	const json = piMode(false) === "json";
	writeSync(1, json ? `${JSON.stringify({ type: "workflow_summary", text: line })}\n` : `${line}\n`);
}
