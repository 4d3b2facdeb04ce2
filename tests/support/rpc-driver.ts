// Drives `pi --mode rpc` over stdio: JSON lines in, JSON lines out (split on "\n" only), with
// waits on the next message that matches, answers to extension UI dialogs, and a SIGKILL for crash tests.

import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { PI_CLI, type PiSandbox } from "./pi-cli.js";

export type RpcMessage = Record<string, unknown> & { type: string };

/** The extension UI requests that wait for the client's answer. */
export type DialogMethod = "confirm" | "select" | "input" | "editor";
const DIALOG_METHODS: ReadonlySet<unknown> = new Set(["confirm", "select", "input", "editor"]);

export class RpcDriver {
	private readonly child: ChildProcessWithoutNullStreams;
	private readonly messages: RpcMessage[] = [];
	private waiters: Array<{
		match: (message: RpcMessage) => boolean;
		resolve: (message: RpcMessage) => void;
		from: number;
	}> = [];
	private buffer = "";
	private seen = 0;
	private exitedWith: { signal: NodeJS.Signals | null } | undefined;
	private readonly closed: Promise<void>;
	stderr = "";

	constructor(sandbox: PiSandbox, args: string[] = []) {
		this.child = spawn(process.execPath, [PI_CLI, ...sandbox.baseArgs, "--mode", "rpc", ...args], {
			cwd: sandbox.cwd,
			env: sandbox.env,
		});
		this.child.stdout.on("data", (chunk: Buffer) => {
			this.buffer += chunk.toString();
			let index = this.buffer.indexOf("\n");
			while (index >= 0) {
				const line = this.buffer.slice(0, index).trim();
				this.buffer = this.buffer.slice(index + 1);
				if (line) this.receive(JSON.parse(line) as RpcMessage);
				index = this.buffer.indexOf("\n");
			}
		});
		this.child.stderr.on("data", (chunk: Buffer) => {
			this.stderr += chunk.toString();
		});
		this.closed = new Promise((resolve) =>
			this.child.on("close", (_code, signal) => {
				this.exitedWith = { signal };
				resolve();
			}),
		);
	}

	/** Whether the pi process has exited. */
	get exited(): boolean {
		return this.exitedWith !== undefined;
	}

	send(message: Record<string, unknown>): void {
		this.child.stdin.write(`${JSON.stringify(message)}\n`);
	}

	prompt(text: string): void {
		this.send({ type: "prompt", message: text });
	}

	/** The next message (after those already consumed by earlier waits) that matches. */
	waitFor(match: (message: RpcMessage) => boolean): Promise<RpcMessage> {
		const found = this.messages.slice(this.seen).findIndex(match);
		if (found >= 0) {
			this.seen += found + 1;
			return Promise.resolve(this.messages[this.seen - 1] as RpcMessage);
		}
		return new Promise((resolve) => this.waiters.push({ match, resolve, from: this.messages.length }));
	}

	/** The next notification whose text matches. */
	async notification(pattern: RegExp): Promise<string> {
		const message = await this.waitFor(
			(m) => m.type === "extension_ui_request" && m.method === "notify" && pattern.test(String(m.message)),
		);
		return String(message.message);
	}

	/** The next dialog an extension opens (confirm, select, input or editor), of one method when given. */
	dialog(method?: DialogMethod): Promise<RpcMessage> {
		return this.waitFor(
			(m) => m.type === "extension_ui_request" && DIALOG_METHODS.has(m.method) && (!method || m.method === method),
		);
	}

	/** Answers a dialog as a person would: true or false for a confirm, the text (or option) for the others,
	 * undefined to dismiss it. */
	answerDialog(request: RpcMessage, answer: string | boolean | undefined): void {
		const reply =
			answer === undefined
				? { cancelled: true }
				: typeof answer === "boolean"
					? { confirmed: answer }
					: { value: answer };
		this.send({ type: "extension_ui_response", id: request.id, ...reply });
	}

	/** Ends pi with a signal (default SIGKILL: no cleanup runs) and resolves with the signal it died of. */
	async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<NodeJS.Signals | null> {
		if (!this.exited) this.child.kill(signal);
		await this.closed;
		return this.exitedWith?.signal ?? null;
	}

	close(): Promise<void> {
		if (!this.exited) this.child.kill("SIGTERM");
		return this.closed;
	}

	private receive(message: RpcMessage): void {
		this.messages.push(message);
		const index = this.messages.length - 1;
		const waiter = this.waiters.find((candidate) => candidate.match(message));
		if (!waiter) return;
		this.waiters = this.waiters.filter((candidate) => candidate !== waiter);
		this.seen = Math.max(this.seen, index + 1);
		waiter.resolve(message);
	}
}
