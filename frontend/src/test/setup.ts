import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';

// Mantine reads the colour scheme and breakpoints through matchMedia, which jsdom lacks.
Object.defineProperty(window, 'matchMedia', {
  writable: true,
  value: (query: string) => ({
    matches: false,
    media: query,
    onchange: null,
    addListener: () => undefined,
    removeListener: () => undefined,
    addEventListener: () => undefined,
    removeEventListener: () => undefined,
    dispatchEvent: () => false,
  }),
});

afterEach(cleanup);

// Mantine's scroll areas watch their size; jsdom lays nothing out.
class ResizeObserverStub {
  observe() {}
  unobserve() {}
  disconnect() {}
}
globalThis.ResizeObserver ??= ResizeObserverStub as unknown as typeof ResizeObserver;

// A combobox scrolls its chosen option into view when it opens; jsdom lays nothing out.
Element.prototype.scrollIntoView ??= function scrollIntoView() {};
