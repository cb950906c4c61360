-- Argo CD health for Gatehouse's kinds (VerifiedDomain, ManagedUser, SSOProfile), read the
-- way kstatus reads them: a spec the operator has not observed yet is Progressing; Stalled=True
-- is Degraded; Reconciling=True is Progressing; otherwise the Ready condition decides.
local hs = { status = "Progressing", message = "Waiting for the Gatehouse operator" }
if obj.status == nil then
  return hs
end
local generation = obj.metadata.generation
if generation ~= nil and obj.status.observedGeneration ~= generation then
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end
local ready = nil
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Stalled" and c.status == "True" then
      return { status = "Degraded", message = (c.reason or "") .. ": " .. (c.message or "") }
    end
    if c.type == "Reconciling" and c.status == "True" then
      return { status = "Progressing", message = c.message or "Reconciling" }
    end
    if c.type == "Ready" then
      ready = c
    end
  end
end
if ready == nil then
  return hs
end
if ready.status == "True" then
  return { status = "Healthy", message = ready.message or "Ready" }
end
if ready.status == "False" then
  return { status = "Degraded", message = (ready.reason or "") .. ": " .. (ready.message or "") }
end
return { status = "Progressing", message = ready.message or "Ready is Unknown" }
