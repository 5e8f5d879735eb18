import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 15_000,
    hookTimeout: 15_000,
    setupFiles: ['test/helpers/no-open-handles.ts'],
    globalSetup: ['test/helpers/system-deps.ts', 'test/helpers/global-build.ts'],
  },
});
