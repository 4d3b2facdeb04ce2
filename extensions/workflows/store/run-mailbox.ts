// Control requests for a run owned by another process: a requester drops a request file into the run's
// `control/` folder; the owner watches the folder, applies each request, and answers with a reply file
// next to it. Files are written atomically, so neither side ever reads half a request or reply. A requester
// that gives up says whether the owner had taken the request; replies nobody collected are removed.

import { existsSync, type FSWatcher, mkdirSync, readdirSync, readFileSync, rmSync, statSync, watch } from "node:fs";
import { join } from "node:path";
import { customAlphabet } from "nanoid";
import { writeAtomically } from "./atomic-write.js";

export type ControlRequest =
	| { type: "pause"; reason?: string }
	| { type: "cancel"; reason?: string }
	| { type: "steer"; stageId: string; message: string }
	| { type: "answer"; promptId?: string; value: unknown };

export interface ControlReply {
	ok: boolean;
	/** What happened, or why the request was refused. */
	message: string;
}

/** The owner polls as well as watching, in case a file-system event is missed. */
const POLL_INTERVAL_MS = 1_000;
/** A reply older than this was left by a requester that gave up: the owner removes it. */
const ORPHAN_REPLY_MS = 60_000;
const requestId = customAlphabet("0123456789abcdefghijklmnopqrstuvwxyz", 10);

function controlDir(runDir: string): string {
	return join(runDir, "control");
}

/** Posts a request and waits for the owner's reply (an error reply when none comes in time). */
export async function sendControlRequest(
	runDir: string,
	request: ControlRequest,
	options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<ControlReply> {
	const dir = controlDir(runDir);
	mkdirSync(dir, { recursive: true });
	const id = `${Date.now().toString(36)}-${requestId()}`;
	const requestFile = join(dir, `${id}.request.json`);
	const replyFile = join(dir, `${id}.reply.json`);
	writeAtomically(requestFile, JSON.stringify(request));
	const timeoutMs = options.timeoutMs ?? 15_000;
	const deadline = Date.now() + timeoutMs;
	while (!existsSync(replyFile)) {
		if (Date.now() > deadline || options.signal?.aborted) {
			const taken = !existsSync(requestFile);
			rmSync(requestFile, { force: true });
			const within = options.signal?.aborted ? "before the wait was cancelled" : `within ${timeoutMs / 1000} s`;
			return {
				ok: false,
				message: taken
					? `the process that owns the run took the request but did not answer ${within}; it may still apply it: check the run's status`
					: `the process that owns the run did not take the request ${within}; nothing was changed`,
			};
		}
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
	const reply = JSON.parse(readFileSync(replyFile, "utf8")) as ControlReply;
	rmSync(replyFile, { force: true });
	return reply;
}

/** Watches for requests and applies each once, in the order they were posted. Returns a stop function. */
export function serveControlRequests(
	runDir: string,
	handle: (request: ControlRequest) => ControlReply | Promise<ControlReply>,
	onWarning: (message: string) => void,
): () => void {
	const dir = controlDir(runDir);
	mkdirSync(dir, { recursive: true });
	let busy = false;
	let again = false;
	const drain = async () => {
		if (busy) {
			again = true;
			return;
		}
		busy = true;
		try {
			do {
				again = false;
				const names = readdirSync(dir).sort();
				for (const name of names.filter((file) => file.endsWith(".reply.json"))) removeIfOrphan(join(dir, name));
				for (const name of names.filter((file) => file.endsWith(".request.json"))) {
					const file = join(dir, name);
					let reply: ControlReply;
					try {
						const request = JSON.parse(readFileSync(file, "utf8")) as ControlRequest;
						// Taken before it is handled: a requester that gives up meanwhile knows it may still apply.
						rmSync(file, { force: true });
						reply = await handle(request);
					} catch (error) {
						rmSync(file, { force: true });
						reply = { ok: false, message: error instanceof Error ? error.message : String(error) };
					}
					writeAtomically(file.replace(/\.request\.json$/, ".reply.json"), JSON.stringify(reply));
				}
			} while (again);
		} catch (error) {
			// The next event or poll tries again; say why this one failed.
			onWarning(`control requests of ${runDir} could not be read: ${(error as Error).message}`);
		} finally {
			busy = false;
		}
	};
	let watcher: FSWatcher | undefined;
	try {
		watcher = watch(dir, () => void drain());
		// Polling goes on without the watcher; say once that it stopped.
		watcher.on("error", (error) => onWarning(`watching ${dir} stopped (${error.message}); polling instead`));
		watcher.unref();
	} catch (error) {
		onWarning(`cannot watch ${dir} (${(error as Error).message}); polling instead`);
		watcher = undefined;
	}
	const timer = setInterval(() => void drain(), POLL_INTERVAL_MS);
	timer.unref?.();
	void drain();
	return () => {
		clearInterval(timer);
		watcher?.close();
	};
}

function removeIfOrphan(file: string): void {
	let age: number;
	try {
		age = Date.now() - statSync(file).mtimeMs;
	} catch {
		return; // collected meanwhile
	}
	if (age > ORPHAN_REPLY_MS) rmSync(file, { force: true });
}
