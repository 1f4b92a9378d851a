--- Options of require('spark_lsp').setup(): defaults, validation and merging.
---
--- Validation runs before anything is registered, so a typo fails loudly at startup with a
--- message that names the option, instead of silently doing nothing.

local M = {}

--- Default keymaps (insert mode). Alt-keys do not clash with completion menus (<C-n>, <C-y>,
--- <Tab>) or with insert-mode defaults.
M.default_keymaps = {
  accept = '<M-l>',
  accept_word = '<M-w>',
  accept_line = '<M-j>',
  next = '<M-]>',
  prev = '<M-[>',
  dismiss = '<M-e>',
}

--- Default next-edit keys (normal and insert mode): `accept` jumps to a proposal shown
--- elsewhere and accepts it when the cursor is there. None of them is one of the insert-mode
--- keys above (`<M-j>` is accept_line; jump is `<M-g>`, "go to").
M.default_next_edit_keymaps = {
  accept = '<M-n>',
  jump = '<M-g>',
  dismiss = '<M-x>',
}

---@class spark_lsp.Options
---@field name string LSP config name, as used by vim.lsp.config/enable
---@field cmd string[]|fun(dispatchers: table): table Command (or RPC connect function)
---@field cmd_env table<string,string>? Extra environment for the server process
---@field filetypes string[]? Filetypes to attach to (nil: every filetype)
---@field root_markers (string|string[])[] Files that mark the workspace root
---@field settings table The `spark` settings section (camelCase keys, nested)
---@field init_options table? Sent as initializationOptions
---@field inline_completion boolean Use native ghost text when Neovim has it (0.12+)
---@field fallback_completion boolean Use LSP completion when ghost text is unavailable
---@field keymaps table<string,string|false>|false Insert-mode keys; false disables all
---@field next_edit boolean Show next-edit proposals (the server predicts the edit that follows)
---@field next_edit_keymaps table<string,string|false>|false Next-edit keys; false disables all
---@field on_attach fun(client: vim.lsp.Client, bufnr: integer)? Called after spark attaches
M.defaults = {
  name = 'spark_lsp',
  cmd = { 'spark-lsp', '--stdio' },
  cmd_env = nil,
  filetypes = {
    'c', 'cpp', 'cs', 'css', 'dart', 'elixir', 'go', 'haskell', 'html', 'java',
    'javascript', 'javascriptreact', 'json', 'kotlin', 'lua', 'ocaml', 'php', 'python',
    'r', 'ruby', 'rust', 'scala', 'sh', 'sql', 'swift', 'terraform', 'toml', 'typescript',
    'typescriptreact', 'vim', 'vue', 'yaml', 'zig',
  },
  root_markers = { '.git', 'pyproject.toml', 'package.json', 'go.mod', 'Cargo.toml' },
  settings = {},
  init_options = nil,
  inline_completion = true,
  fallback_completion = true,
  keymaps = vim.deepcopy(M.default_keymaps),
  next_edit = true,
  next_edit_keymaps = vim.deepcopy(M.default_next_edit_keymaps),
  on_attach = nil,
}

local function list_of(kind)
  return function(value)
    if not vim.islist(value) then
      return false, 'a list of ' .. kind .. 's'
    end
    for i, item in ipairs(value) do
      if type(item) ~= kind then
        return false, ('a list of %ss (item %d is a %s)'):format(kind, i, type(item))
      end
    end
    return true
  end
end

local function root_markers(value)
  if not vim.islist(value) then
    return false, 'a list of file names'
  end
  for i, item in ipairs(value) do
    if type(item) ~= 'string' and not (vim.islist(item) and list_of('string')(item)) then
      return false, ('a list of file names or of lists of file names (item %d)'):format(i)
    end
  end
  return true
end

local function command(value)
  if type(value) == 'function' then
    return true
  end
  local ok, why = list_of('string')(value)
  if not ok or #value == 0 then
    return false, why and ('a function or ' .. why) or 'a non-empty list of strings'
  end
  return true
end

--- A validator for a table of keys whose actions are those of `defaults`.
local function keymaps_like(defaults, name)
  return function(value)
    if value == false then
      return true
    end
    if type(value) ~= 'table' then
      return false, 'a table of keys, or false'
    end
    local actions = vim.tbl_keys(defaults)
    table.sort(actions)
    for action, lhs in pairs(value) do
      if defaults[action] == nil then
        return false, 'actions among ' .. table.concat(actions, ', '), name, action
      end
      if lhs ~= false and (type(lhs) ~= 'string' or lhs == '') then
        return false, 'a key string or false', name .. '.' .. action, lhs
      end
    end
    return true
  end
end

local validators = {
  name = { 'string' },
  cmd = { command },
  cmd_env = { 'table', true },
  filetypes = { list_of('string'), true },
  root_markers = { root_markers },
  settings = { 'table' },
  init_options = { 'table', true },
  inline_completion = { 'boolean' },
  fallback_completion = { 'boolean' },
  keymaps = { keymaps_like(M.default_keymaps, 'keymaps') },
  next_edit = { 'boolean' },
  next_edit_keymaps = { keymaps_like(M.default_next_edit_keymaps, 'next_edit_keymaps') },
  on_attach = { 'callable', true },
}

local function closest(name)
  local best, best_score
  for candidate in pairs(validators) do
    local score = vim.fn.matchfuzzypos({ candidate }, name)[3][1]
    if score and (not best_score or score > best_score) then
      best, best_score = candidate, score
    end
  end
  return best
end

local function shown(value)
  local text = vim.inspect(value, { newline = ' ', indent = '' })
  return #text > 60 and (text:sub(1, 57) .. '...') or text
end

--- Merge user options over the defaults and check every value.
--- Raises an error whose message starts with `spark_lsp:` and names the bad option.
---@param user table?
---@return spark_lsp.Options
function M.resolve(user)
  local ok, err = pcall(vim.validate, 'opts', user, 'table', true)
  if not ok then
    error('spark_lsp: setup() ' .. err, 0)
  end
  user = user or {}
  for key in pairs(user) do
    if validators[key] == nil then
      local hint = closest(tostring(key))
      error(('spark_lsp: unknown option %q%s'):format(
        tostring(key), hint and (' (did you mean %q?)'):format(hint) or ''), 0)
    end
  end
  local opts = vim.tbl_extend('force', vim.deepcopy(M.defaults), user)
  if type(user.keymaps) == 'table' then
    opts.keymaps = vim.tbl_extend('force', vim.deepcopy(M.default_keymaps), user.keymaps)
  end
  if type(user.next_edit_keymaps) == 'table' then
    opts.next_edit_keymaps = vim.tbl_extend('force', vim.deepcopy(M.default_next_edit_keymaps),
      user.next_edit_keymaps)
  end
  for key, spec in pairs(validators) do
    local value, check, optional = opts[key], spec[1], spec[2]
    if type(check) == 'function' then
      local valid, expected, path, got = check(value)
      if not valid and not (optional and value == nil) then
        error(('spark_lsp: option %s: expected %s, got %s'):format(
          path or key, expected, shown(path and got or value)), 0)
      end
    else
      ok, err = pcall(vim.validate, key, value, check, optional)
      if not ok then
        error('spark_lsp: option ' .. err, 0)
      end
    end
  end
  return opts
end

return M
