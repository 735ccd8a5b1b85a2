import { Alert, Badge, createTheme, type CSSVariablesResolver } from '@mantine/core';

// Mantine's default shades fail WCAG AA contrast for small text on white (axe-core checks it
// in the browser tests): darker filled colours, and a darker red for errors.
export const theme = createTheme({
  primaryColor: 'blue',
  primaryShade: { light: 8, dark: 6 },
  components: {
    // A tinted alert's title in its colour (yellow, green) is too pale to read: the text colour.
    Alert: Alert.extend({ styles: { title: { color: 'var(--mantine-color-text)' } } }),
    // A badge in a narrow table cell widens its column rather than losing its words.
    Badge: Badge.extend({ styles: { root: { maxWidth: 'none', flexShrink: 0 }, label: { overflow: 'visible' } } }),
  },
});

export const cssVariables: CSSVariablesResolver = () => ({
  variables: {},
  light: {
    '--mantine-color-error': 'var(--mantine-color-red-9)',
    // Field descriptions and placeholders: dimmed, yet readable (WCAG AA).
    '--mantine-color-dimmed': 'var(--mantine-color-gray-7)',
  },
  dark: {},
});
