/** The requester page's one way to the API: no cookies, no cache, no referrer; typed errors. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(code);
  }
}

/** @throws ApiError: status 0 when the network failed, else the answer's status and error code. */
export async function api<T>(path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
    });
  } catch {
    throw new ApiError(0, 'network');
  }
  const json = (await res.json().catch(() => ({}))) as { error?: { code: string } };
  if (!res.ok) throw new ApiError(res.status, json.error?.code ?? 'unknown');
  return json as T;
}
