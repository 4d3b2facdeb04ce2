// A concurrency limiter (after p-limit): at most `concurrency` functions run at once, the rest wait
// in arrival order. Counts are exposed read-only for progress and tests.

export interface Limiter {
	<T>(fn: () => Promise<T>): Promise<T>;
	readonly activeCount: number;
	readonly pendingCount: number;
	/** Highest number of functions that were running at the same time. */
	readonly peakCount: number;
}

export function createLimiter(concurrency: number): Limiter {
	if (!Number.isInteger(concurrency) || concurrency < 1) {
		throw new Error(
			`Expected concurrency to be an integer from 1 and up, got ${JSON.stringify(concurrency)} (${typeof concurrency})`,
		);
	}
	const queue: Array<() => void> = [];
	let active = 0;
	let peak = 0;

	const next = () => {
		if (active >= concurrency) return;
		const start = queue.shift();
		if (start) start();
	};

	const limit = <T>(fn: () => Promise<T>): Promise<T> =>
		new Promise<T>((resolve, reject) => {
			queue.push(() => {
				active++;
				peak = Math.max(peak, active);
				// A function that throws before it returns a promise frees its slot too.
				let running: Promise<T>;
				try {
					running = fn();
				} catch (error) {
					running = Promise.reject(error);
				}
				running.then(resolve, reject).finally(() => {
					active--;
					next();
				});
			});
			next();
		});

	return Object.defineProperties(limit, {
		activeCount: { get: () => active },
		pendingCount: { get: () => queue.length },
		peakCount: { get: () => peak },
	}) as Limiter;
}
