import { createTheme, type CSSVariablesResolver } from '@mantine/core';

// Mantine's default shades fail WCAG AA contrast for small text on white (axe-core checks it
// in the browser tests): darker filled colours, and a darker red for errors.
export const theme = createTheme({
  primaryColor: 'blue',
  primaryShade: { light: 8, dark: 6 },
});

export const cssVariables: CSSVariablesResolver = () => ({
  variables: {},
  light: { '--mantine-color-error': 'var(--mantine-color-red-9)' },
  dark: {},
});
