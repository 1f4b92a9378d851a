--- Next-edit proposals: after you edit, spark-lsp predicts the edit that follows (rename a
--- parameter -> its uses in the body) and announces it with `spark/nextEditAvailable`. This
--- module fetches it (`spark/nextEdit`), shows it where it would land (the replaced text
--- highlighted, the new text as virtual text) and maps keys to jump to it, accept it and dismiss
--- it. A proposal is for one buffer version: any change to the buffer drops it, and it is never
--- applied over newer text.

local M = {}

M.REQUEST = 'spark/nextEdit'
M.AVAILABLE = 'spark/nextEditAvailable'
M.ns = vim.api.nvim_create_namespace('spark_lsp.next_edit')

--- The shown proposal per buffer: { client_id, version, edits }.
---@type table<integer, {client_id: integer, version: integer, edits: lsp.TextEdit[]}>
M.proposals = {}

local function notify(msg, level)
  vim.notify('spark: ' .. msg, level or vim.log.levels.INFO)
end

local function buf_version(bufnr)
  return vim.lsp.util.buf_versions[bufnr]
end

--- Byte column of an LSP position (clamped to the line).
local function byte_col(bufnr, pos, encoding)
  local line = vim.api.nvim_buf_get_lines(bufnr, pos.line, pos.line + 1, false)[1] or ''
  local ok, col = pcall(vim.str_byteindex, line, encoding, pos.character, false)
  return ok and math.min(col, #line) or #line
end

local function define_highlights()
  vim.api.nvim_set_hl(0, 'SparkNextEditDelete', { link = 'DiffDelete', default = true })
  vim.api.nvim_set_hl(0, 'SparkNextEditInsert', { link = 'DiffAdd', default = true })
end

--- The buffer (0 or nil: the current one) and its shown proposal, if any.
local function current(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  return bufnr, M.proposals[bufnr]
end

--- Remove the shown proposal of `bufnr`.
function M.dismiss(bufnr)
  bufnr = current(bufnr)
  local had = M.proposals[bufnr] ~= nil
  M.proposals[bufnr] = nil
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  end
  return had
end

local function encoding_of(proposal)
  local client = vim.lsp.get_client_by_id(proposal.client_id)
  return client and client.offset_encoding or 'utf-16'
end

--- Draw a proposal: each replaced range highlighted, its new text as inline virtual text (and
--- virtual lines for the lines it adds).
local function render(bufnr, proposal)
  vim.api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  local encoding = encoding_of(proposal)
  for _, edit in ipairs(proposal.edits) do
    local s, e = edit.range.start, edit.range['end']
    local sc, ec = byte_col(bufnr, s, encoding), byte_col(bufnr, e, encoding)
    if s.line ~= e.line or sc ~= ec then
      vim.api.nvim_buf_set_extmark(bufnr, M.ns, s.line, sc, {
        end_row = e.line, end_col = ec, hl_group = 'SparkNextEditDelete', strict = false,
      })
    end
    local lines = vim.split(edit.newText, '\n', { plain = true })
    if lines[1] ~= '' then
      vim.api.nvim_buf_set_extmark(bufnr, M.ns, e.line, ec, {
        virt_text = { { lines[1], 'SparkNextEditInsert' } }, virt_text_pos = 'inline',
        strict = false,
      })
    end
    if #lines > 1 then
      local virt_lines = {}
      for i = 2, #lines do
        if i < #lines or lines[i] ~= '' then
          table.insert(virt_lines, { { lines[i], 'SparkNextEditInsert' } })
        end
      end
      if #virt_lines > 0 then
        vim.api.nvim_buf_set_extmark(bufnr, M.ns, e.line, 0, { virt_lines = virt_lines })
      end
    end
  end
end

--- Show `result` (a spark/nextEdit answer) in `bufnr` if it is still for the buffer's text.
function M.show(bufnr, client_id, result)
  if type(result) ~= 'table' or type(result.edits) ~= 'table' or #result.edits == 0 then
    return false
  end
  if result.version ~= buf_version(bufnr) then
    return false -- computed for older text: never shown, never applied
  end
  local proposal = { client_id = client_id, version = result.version, edits = result.edits }
  M.proposals[bufnr] = proposal
  render(bufnr, proposal)
  vim.api.nvim_exec_autocmds('User', { pattern = 'SparkNextEdit', data = proposal,
    modeline = false })
  return true
end

--- Ask the server for the next edit at the cursor of `bufnr` and show it.
---@param client vim.lsp.Client
---@param bufnr integer
---@param explicit boolean? Say so when there is nothing to propose
function M.fetch(client, bufnr, explicit)
  local version = buf_version(bufnr)
  local win = vim.fn.bufwinid(bufnr)
  local position = { line = 0, character = 0 }
  if win ~= -1 then
    position = vim.lsp.util.make_position_params(win, client.offset_encoding).position
  end
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr), version = version },
    position = position,
  }
  client:request(M.REQUEST, params, function(err, result)
    if err then
      if explicit then
        notify('next edit: ' .. tostring(err.message or err), vim.log.levels.WARN)
      end
      return
    end
    if not M.show(bufnr, client.id, result) and explicit then
      notify('no next edit to propose here')
    end
  end, bufnr)
end

--- The handler of spark/nextEditAvailable: fetch the proposal if the buffer has not moved on.
function M.on_available(_, params, ctx)
  local uri = params and params.textDocument and params.textDocument.uri
  if type(uri) ~= 'string' then
    return
  end
  local bufnr = vim.uri_to_bufnr(uri)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if client and vim.api.nvim_buf_is_loaded(bufnr)
    and params.textDocument.version == buf_version(bufnr) then
    M.fetch(client, bufnr, false)
  end
end

--- First edit's start as a (1-based row, byte col) cursor position.
local function target(bufnr, proposal)
  local start = proposal.edits[1].range.start
  return { start.line + 1, byte_col(bufnr, start, encoding_of(proposal)) }
end

--- Move the cursor to the proposal; false when there is none.
function M.jump(bufnr)
  local proposal
  bufnr, proposal = current(bufnr)
  if not proposal then
    return false
  end
  vim.api.nvim_win_set_cursor(0, target(bufnr, proposal))
  return true
end

--- Whether the cursor is on the lines the proposal changes.
local function at_proposal(proposal)
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local first = proposal.edits[1].range.start.line
  local last = proposal.edits[#proposal.edits].range['end'].line
  return row >= first and row <= last
end

--- Apply the proposal (only to the version it was computed for); false when there is none.
function M.accept(bufnr)
  local proposal
  bufnr, proposal = current(bufnr)
  if not proposal then
    return false
  end
  M.dismiss(bufnr)
  if proposal.version ~= buf_version(bufnr) then
    notify('the proposed edit is for older text; not applied', vim.log.levels.WARN)
    return true
  end
  vim.lsp.util.apply_text_edits(proposal.edits, bufnr, encoding_of(proposal))
  return true
end

--- One key for both steps: jump to the proposal when the cursor is elsewhere, accept it when
--- the cursor is there. False when there is no proposal.
function M.jump_or_accept(bufnr)
  local proposal
  bufnr, proposal = current(bufnr)
  if not proposal then
    return false
  end
  if at_proposal(proposal) then
    return M.accept(bufnr)
  end
  return M.jump(bufnr)
end

--- Keys (normal and insert mode); each types itself when no proposal is shown.
---@param bufnr integer
---@param keymaps table<string,string|false>
local function set_keymaps(bufnr, keymaps)
  local actions = {
    accept = { 'Spark: jump to the next edit, or accept it there', M.jump_or_accept },
    jump = { 'Spark: jump to the next edit', M.jump },
    dismiss = { 'Spark: dismiss the next edit', M.dismiss },
  }
  for action, lhs in pairs(keymaps) do
    local spec = actions[action]
    if lhs and spec then
      vim.keymap.set({ 'n', 'i' }, lhs, function()
        if not M.proposals[bufnr] then
          return lhs
        end
        vim.schedule(function()
          spec[2](bufnr)
        end)
        return ''
      end, { buffer = bufnr, expr = true, desc = spec[1] })
    end
  end
end

--- Per-buffer set-up: keys, and dropping the proposal as soon as the text changes.
---@param bufnr integer
---@param keymaps table<string,string|false>|false
function M.attach(bufnr, keymaps)
  define_highlights()
  if keymaps then
    set_keymaps(bufnr, keymaps)
  end
  local group = vim.api.nvim_create_augroup('spark_lsp.next_edit.' .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ 'TextChanged', 'TextChangedI', 'TextChangedP' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      local proposal = M.proposals[bufnr]
      if proposal and proposal.version ~= buf_version(bufnr) then
        M.dismiss(bufnr)
      end
    end,
  })
  vim.api.nvim_create_autocmd('BufWipeout', {
    group = group,
    buffer = bufnr,
    callback = function()
      M.proposals[bufnr] = nil
    end,
  })
end

return M
