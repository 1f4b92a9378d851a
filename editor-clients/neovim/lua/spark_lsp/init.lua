--- spark_lsp: AI inline completions and code actions from spark-lsp.
---
--- Thin by design: the language server does the work; this module registers it with
--- vim.lsp.config/enable, turns on native ghost text (vim.lsp.inline_completion, Neovim 0.12+)
--- and adds the few commands that need an editor (status, edit selection, toggles).

local config = require('spark_lsp.config')
local next_edit = require('spark_lsp.next_edit')

local M = {}

M.STATUS_METHOD = 'spark/status'
M.STATS_METHOD = 'spark/stats'
M.EDIT_COMMAND = 'spark.editSelection'
M.PROMPT_EDIT_COMMAND = 'spark.promptEdit'
M.TOGGLE_COMMAND = 'spark.toggleCompletions'

---@type spark_lsp.Options?
M.options = nil

--- Last `spark/status` per client id.
---@type table<integer, table>
M.status = {}

local function notify(msg, level)
  vim.notify('spark: ' .. msg, level or vim.log.levels.INFO)
end

--- Whether this Neovim has native ghost text.
function M.has_inline_completion()
  return vim.lsp.inline_completion ~= nil
end

--- The running spark clients (optionally attached to `bufnr`).
---@param bufnr integer?
---@return vim.lsp.Client[]
function M.clients(bufnr)
  local name = M.options and M.options.name or config.defaults.name
  return vim.lsp.get_clients({ name = name, bufnr = bufnr })
end

local function client_for(bufnr)
  local client = M.clients(bufnr)[1]
  if not client then
    notify('spark-lsp is not attached to this buffer (see :checkhealth spark_lsp)',
      vim.log.levels.WARN)
  end
  return client
end

--- One line describing a status payload, for :SparkStatus and statuslines.
---@param status table?
---@return string
function M.format_status(status)
  if not status then
    return 'spark: no status yet'
  end
  local parts = { 'spark: ' .. tostring(status.state or '?') }
  if type(status.model) == 'string' and status.model ~= '' then
    table.insert(parts, status.model)
  end
  if type(status.endpointUrl) == 'string' and status.endpointUrl ~= ''
      and status.endpointUrl ~= status.endpoint then
    table.insert(parts, ('%s (%s)'):format(status.endpointUrl, tostring(status.endpoint)))
  elseif type(status.endpoint) == 'string' and status.endpoint ~= '' then
    table.insert(parts, status.endpoint)
  end
  if type(status.latencyMs) == 'number' then
    table.insert(parts, ('%d ms'):format(status.latencyMs))
  end
  if type(status.detail) == 'string' and status.detail ~= '' then
    table.insert(parts, status.detail)
  end
  return table.concat(parts, ' · ')
end

--- Short text for a statusline component: '' when spark is not attached to the buffer.
---@return string
function M.statusline()
  local client = M.clients(0)[1]
  local status = client and M.status[client.id]
  if not status then
    return ''
  end
  return 'spark:' .. tostring(status.state) .. (M.buffer_enabled(0) and '' or ':off')
end

--- Whether automatic suggestions are on in `bufnr` (the per-buffer switch, :SparkToggleBuffer).
---@param bufnr integer?
---@return boolean
function M.buffer_enabled(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  return vim.b[bufnr].spark_enabled ~= false
end

--- Turn automatic suggestions on or off in one buffer (others keep theirs); returns the new
--- state. Off means Neovim makes no requests for the buffer, so the model is never called.
---@param bufnr integer?
---@param enable boolean? the state to set; toggles when nil
---@return boolean
function M.toggle_buffer(bufnr, enable)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if enable == nil then
    enable = not M.buffer_enabled(bufnr)
  end
  vim.b[bufnr].spark_enabled = enable
  for _, client in ipairs(M.clients(bufnr)) do
    if M.options and M.ghost_text(M.options) then
      vim.lsp.inline_completion.enable(enable, { bufnr = bufnr })
    elseif vim.lsp.completion then
      vim.lsp.completion.enable(enable, client.id, bufnr, { autotrigger = true })
    end
  end
  return enable
end

-- Handlers -----------------------------------------------------------------------------------

local function on_status(_, result, ctx)
  M.status[ctx.client_id] = result
  vim.api.nvim_exec_autocmds('User', { pattern = 'SparkStatus', data = result, modeline = false })
end

--- Ask for an instruction, then run spark.editSelection on `range` of `uri`.
---@param client vim.lsp.Client
---@param bufnr integer
---@param range lsp.Range
---@param instruction string? Skip the prompt when given
function M.edit(client, bufnr, range, instruction)
  local function run(text)
    if not text or vim.trim(text) == '' then
      return
    end
    local args = { { uri = vim.uri_from_bufnr(bufnr), range = range, instruction = text } }
    client:exec_cmd({ title = 'Spark edit', command = M.EDIT_COMMAND, arguments = args },
      { bufnr = bufnr }, function(err, result)
        if err then
          notify('edit failed: ' .. tostring(err.message or err), vim.log.levels.ERROR)
        elseif result == false then
          notify('no edit applied', vim.log.levels.WARN)
        end
      end)
  end
  if instruction then
    run(instruction)
  else
    vim.ui.input({ prompt = 'Spark edit: ' }, run)
  end
end

--- Client-side command the server puts on "Edit with instruction…" code actions.
local function prompt_edit_command(command, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  local arg = command.arguments and command.arguments[1]
  if not client or type(arg) ~= 'table' or not arg.range then
    return
  end
  local bufnr = arg.uri and vim.uri_to_bufnr(arg.uri) or ctx.bufnr
  M.edit(client, bufnr, arg.range)
end

-- Commands -----------------------------------------------------------------------------------

--- The LSP range of a :command range: the exact characters after a charwise visual
--- selection, whole lines otherwise.
---@param bufnr integer
---@param cmd table the user-command argument table
---@param encoding string
---@return lsp.Range
function M.command_range(bufnr, cmd, encoding)
  local util = vim.lsp.util
  local first, last = cmd.line1, cmd.line2
  if cmd.range == 0 then
    first, last = vim.fn.line('.'), vim.fn.line('.')
  end
  local vstart = vim.api.nvim_buf_get_mark(bufnr, '<')
  local vend = vim.api.nvim_buf_get_mark(bufnr, '>')
  local charwise = cmd.range == 2 and vim.fn.visualmode() == 'v'
    and vstart[1] == first and vend[1] == last
  local start_col, end_line_text = 0, vim.api.nvim_buf_get_lines(bufnr, last - 1, last, true)[1]
  local end_col = #end_line_text
  if charwise then
    start_col = vstart[2]
    local col = math.min(vend[2], #end_line_text)
    local char = vim.fn.strcharpart(end_line_text:sub(col + 1), 0, 1)
    end_col = math.min(col + #char, #end_line_text)
  end
  local function pos(line, col)
    return { line = line - 1, character = util.character_offset(bufnr, line - 1, col, encoding) }
  end
  return { start = pos(first, start_col), ['end'] = pos(last, end_col) }
end

local function spark_edit(cmd)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_for(bufnr)
  if not client then
    return
  end
  local range = M.command_range(bufnr, cmd, client.offset_encoding)
  M.edit(client, bufnr, range, cmd.args ~= '' and cmd.args or nil)
end

local function spark_status()
  local clients = M.clients()
  if #clients == 0 then
    notify('not running (see :checkhealth spark_lsp)', vim.log.levels.WARN)
    return
  end
  for _, client in ipairs(clients) do
    vim.api.nvim_echo({ { M.format_status(M.status[client.id]) } }, true, {})
  end
end

local function spark_stats()
  local client = client_for(0)
  if not client then
    return
  end
  client:request(M.STATS_METHOD, vim.empty_dict(), function(err, result)
    if err then
      notify('stats failed: ' .. tostring(err.message), vim.log.levels.ERROR)
      return
    end
    vim.api.nvim_echo({ { vim.inspect(result) } }, true, {})
  end, 0)
end

local function spark_toggle()
  local client = client_for(0)
  if not client then
    return
  end
  client:exec_cmd({ title = 'Toggle', command = M.TOGGLE_COMMAND }, { bufnr = 0 },
    function(err, result)
      if err then
        notify('toggle failed: ' .. tostring(err.message), vim.log.levels.ERROR)
      elseif type(result) == 'table' and result.enabled ~= nil then
        notify('completions ' .. (result.enabled and 'on' or 'off'))
      end
    end)
end

local function spark_toggle_buffer()
  local enabled = M.toggle_buffer(0)
  notify('suggestions ' .. (enabled and 'on' or 'off') .. ' in this buffer')
end

--- :SparkNextEdit: ask for the next edit at the cursor now (no need to wait for the pause).
local function spark_next_edit()
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_for(bufnr)
  if client then
    next_edit.fetch(client, bufnr, true)
  end
end

local function create_commands()
  local command = vim.api.nvim_create_user_command
  command('SparkNextEdit', spark_next_edit, { desc = 'Propose the next edit at the cursor' })
  command('SparkNextEditAccept', function()
    next_edit.accept(0)
  end, { desc = 'Apply the proposed next edit' })
  command('SparkNextEditDismiss', function()
    next_edit.dismiss(0)
  end, { desc = 'Dismiss the proposed next edit' })
  command('SparkStatus', spark_status, { desc = 'Show the spark-lsp status' })
  command('SparkStats', spark_stats, { desc = 'Show spark-lsp statistics' })
  command('SparkToggle', spark_toggle, { desc = 'Turn spark-lsp completions on or off' })
  command('SparkToggleBuffer', spark_toggle_buffer,
    { desc = 'Turn spark-lsp suggestions on or off in this buffer' })
  command('SparkEdit', spark_edit, {
    range = true,
    nargs = '*',
    desc = 'Rewrite the selection following an instruction (prompted when not given)',
  })
end

-- Attaching ----------------------------------------------------------------------------------

--- The part of a suggestion a partial accept inserts: its next word (with the blanks before
--- it; a run of punctuation counts as a word) or its first line (with the line break when
--- more follows). The server serves the rest from its typing-through cache, at once.
---@param text string
---@param unit 'word'|'line'
---@return string
function M.partial_text(text, unit)
  local part
  if unit == 'line' then
    part = text:match('^[^\n]*\n') or text
  else
    part = text:match('^%s*[%w_]+') or text:match('^%s*[^%w_%s]+') or text
  end
  return part
end

--- A keymap function inserting part of the shown suggestion at its range (Neovim's own
--- accept inserts all of it); false when nothing is shown, so the key types itself.
---@param bufnr integer
---@param unit 'word'|'line'
local function accept_part(bufnr, unit)
  return function()
    return vim.lsp.inline_completion.get({
      bufnr = bufnr,
      on_accept = function(item)
        local text = item.insert_text
        text = type(text) == 'string' and text or text.value
        local lines = vim.split(M.partial_text(text, unit), '\n')
        local row, col = unpack(vim.api.nvim_win_get_cursor(0))
        row = row - 1
        local end_row, end_col = row, col
        if item.range then
          row, col = item.range.start.row, item.range.start.col
          end_row, end_col = item.range.end_.row, item.range.end_.col
        end
        vim.api.nvim_buf_set_text(bufnr, row, col, end_row, end_col, lines)
        vim.api.nvim_win_set_cursor(0, { row + #lines, (#lines == 1 and col or 0) + #lines[#lines] })
      end,
    })
  end
end

--- Insert-mode keys: each falls back to its own key when there is no suggestion, so mapping
--- e.g. <Tab> keeps <Tab> working.
---@param bufnr integer
---@param keymaps table<string,string|false>
local function set_keymaps(bufnr, keymaps)
  local inline = vim.lsp.inline_completion
  local ghost_ns = vim.api.nvim_create_namespace('nvim.lsp.inline_completion') -- Neovim's own
  local function move(count)
    return function()
      if #vim.api.nvim_buf_get_extmarks(bufnr, ghost_ns, 0, -1, { limit = 1 }) == 0 then
        return false -- nothing shown: the key types itself
      end
      inline.select({ count = count })
      return true
    end
  end
  local actions = {
    accept = { 'Accept the Spark suggestion', function() return inline.get() end },
    accept_word = { 'Accept the next word of the Spark suggestion', accept_part(bufnr, 'word') },
    accept_line = { 'Accept the next line of the Spark suggestion', accept_part(bufnr, 'line') },
    dismiss = {
      'Dismiss the Spark suggestion',
      function() return inline.get({ on_accept = function() end }) end,
    },
    next = { 'Next Spark suggestion', move(1) },
    prev = { 'Previous Spark suggestion', move(-1) },
  }
  for action, lhs in pairs(keymaps) do
    local spec = actions[action]
    if lhs and spec then
      vim.keymap.set('i', lhs, function()
        return spec[2]() and '' or lhs
      end, { buffer = bufnr, expr = true, desc = spec[1] })
    end
  end
end

--- Whether suggestions are shown as ghost text (else in the completion menu).
---@param opts spark_lsp.Options
function M.ghost_text(opts)
  return opts.inline_completion and M.has_inline_completion()
end

--- Without ghost text, do not announce inline completion: the server then answers
--- textDocument/completion with the suggestion (it stays silent there for ghost-text clients).
local function before_init(params)
  if not M.ghost_text(assert(M.options)) and params.capabilities.textDocument then
    params.capabilities.textDocument.inlineCompletion = nil
  end
end

--- The same keys for the completion menu (no ghost text): accept asks for a suggestion, or
--- accepts the selected item when the menu is open; the others move in or close the menu.
---@param bufnr integer
---@param keymaps table<string,string|false>
local function set_menu_keymaps(bufnr, keymaps)
  local show = vim.lsp.completion.get or vim.lsp.completion.trigger -- trigger: older name
  local in_menu = { accept = '<C-y>', dismiss = '<C-e>', next = '<C-n>', prev = '<C-p>' }
  for action, lhs in pairs(keymaps) do
    if lhs and in_menu[action] then
      vim.keymap.set('i', lhs, function()
        if vim.fn.pumvisible() == 1 then
          return in_menu[action]
        elseif action == 'accept' then
          show()
          return ''
        end
        return lhs
      end, { buffer = bufnr, expr = true, desc = 'Spark: ' .. action .. ' (completion menu)' })
    end
  end
end

---@param client vim.lsp.Client
---@param bufnr integer
local function on_attach(client, bufnr)
  local opts = assert(M.options)
  local ghost = M.ghost_text(opts)
    and client:supports_method('textDocument/inlineCompletion', bufnr)
  local enabled = M.buffer_enabled(bufnr) -- a buffer switched off stays off on re-attach
  if ghost then
    vim.lsp.inline_completion.enable(enabled, { bufnr = bufnr })
    if opts.keymaps then
      set_keymaps(bufnr, opts.keymaps)
    end
  elseif opts.fallback_completion and vim.lsp.completion then
    -- No ghost text (Neovim 0.11): the server answers textDocument/completion instead.
    vim.lsp.completion.enable(enabled, client.id, bufnr, { autotrigger = true })
    if opts.keymaps then
      set_menu_keymaps(bufnr, opts.keymaps)
    end
  end
  if opts.next_edit then
    next_edit.attach(bufnr, opts.next_edit_keymaps)
  end
  if opts.on_attach then
    opts.on_attach(client, bufnr)
  end
end

--- initializationOptions: the user's, plus the opt-in to spark-lsp's next-edit extension and
--- the client-side commands this plugin implements (the server offers "Edit selection…" only to
--- clients that announce spark.promptEdit).
---@param opts spark_lsp.Options
function M.init_options(opts)
  local init = vim.deepcopy(opts.init_options or {})
  local experimental = vim.tbl_extend('force', init.experimental or {}, {
    clientCommands = { M.PROMPT_EDIT_COMMAND },
  })
  if opts.next_edit then
    experimental.nextEdit = true
  end
  init.experimental = experimental
  return init
end

--- Configure and enable the spark-lsp client. Safe to call again to change options.
---@param user_opts table?
function M.setup(user_opts)
  if vim.fn.has('nvim-0.11') == 0 then
    error('spark_lsp: Neovim 0.11 or newer is required', 0)
  end
  local opts = config.resolve(user_opts)
  M.options = opts
  vim.lsp.config(opts.name, {
    cmd = opts.cmd,
    cmd_env = opts.cmd_env,
    filetypes = opts.filetypes,
    root_markers = opts.root_markers,
    settings = { spark = next(opts.settings) and opts.settings or vim.empty_dict() },
    init_options = M.init_options(opts),
    handlers = { [M.STATUS_METHOD] = on_status, [next_edit.AVAILABLE] = next_edit.on_available },
    commands = { [M.PROMPT_EDIT_COMMAND] = prompt_edit_command },
    before_init = before_init,
    on_attach = on_attach,
  })
  vim.lsp.enable(opts.name)
  create_commands()
end

return M
