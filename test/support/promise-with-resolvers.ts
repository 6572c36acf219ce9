/**
 * `Promise.withResolvers` (ES2024) for Node 20. Import it, for its side effect,
 * before `aws-local-stepfunctions`: that package declares Node ≥ 22 and every
 * Task state calls `Promise.withResolvers`; without it each Task fails with a
 * TypeError that a `Catch` on `States.ALL` quietly turns into a normal branch.
 */

declare global {
  interface PromiseConstructor {
    withResolvers<T>(): {
      promise: Promise<T>;
      resolve: (value: T | PromiseLike<T>) => void;
      reject: (reason?: unknown) => void;
    };
  }
}

if (typeof Promise.withResolvers !== "function") {
  Object.defineProperty(Promise, "withResolvers", {
    configurable: true,
    writable: true,
    value: function withResolvers<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

export {};
