/** Connection page sizes: `first` when a client sends none, and the most it may ask for. */
export const DEFAULT_PAGE = 20;
export const MAX_PAGE = 100;
