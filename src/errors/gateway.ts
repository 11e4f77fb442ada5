import { defineError } from './ditto-error.js';

export const authenticationFailed = defineError<{ detail?: string }>({
  code: 'gateway:authentication.failed',
  status: 401,
  message: ({ detail }) => `Unauthorized${detail ? `: ${detail}` : ''}.`,
  description: 'Check if your credentials were correct.',
});

export const methodNotAllowed = defineError<{ method: string }>({
  code: 'gateway:method.notallowed',
  status: 405,
  message: ({ method }) => `The provided HTTP method <${method}> is not allowed on this resource.`,
  description: 'Check the API documentation for the methods this resource supports.',
});

export const routeNotFound = defineError<{ path: string }>({
  code: 'gateway:route.notfound',
  status: 404,
  message: ({ path }) => `The requested resource <${path}> could not be found.`,
  description: 'Check the path of the request against the API documentation.',
});

export const devopsOnly = defineError<void>({
  code: 'gateway:authentication.forbidden',
  status: 403,
  message: () => 'Only the devops user may access this resource.',
  description: 'Use the devops credentials for connection management.',
});
