import { act, renderHook } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { useCursorPager } from './useCursorPager';

describe('useCursorPager', () => {
  it('walks forward by end cursors and back to where each page started', () => {
    const { result } = renderHook(() => useCursorPager());
    expect(result.current).toMatchObject({ pageIndex: 0, after: null });
    act(() => result.current.next('c25'));
    act(() => result.current.next('c50'));
    expect(result.current).toMatchObject({ pageIndex: 2, after: 'c50' });
    act(() => result.current.previous());
    expect(result.current).toMatchObject({ pageIndex: 1, after: 'c25' });
    act(() => result.current.previous());
    act(() => result.current.previous());
    expect(result.current).toMatchObject({ pageIndex: 0, after: null });
    act(() => result.current.next('c25'));
    act(() => result.current.reset());
    expect(result.current).toMatchObject({ pageIndex: 0, after: null });
  });
});
